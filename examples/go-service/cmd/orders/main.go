// Command orders serves the order API.
package main

import (
	"log"
	"net/http"
)

var version = "dev"

func main() {
	http.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(version))
	})
	log.Fatal(http.ListenAndServe(":8080", nil))
}
