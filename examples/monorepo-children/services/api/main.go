// Command api serves the shop API.
package main

var version = "dev"

func main() { println(version) }
