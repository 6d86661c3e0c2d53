// Command todo keeps a to-do list in a plain text file.
package main

import (
	"fmt"
	"os"
)

var version = "dev"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "version" {
		fmt.Println(version)
		return
	}
	fmt.Println("usage: todo add|list|done|version")
}
