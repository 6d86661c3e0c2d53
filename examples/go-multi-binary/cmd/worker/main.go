// Command worker is part of the ledger platform.
package main

var version = "dev"

func main() { println("worker", version) }
