// Command sink exercises every cifab option.
package main

var Version = "dev"

func main() { println(Version) }
