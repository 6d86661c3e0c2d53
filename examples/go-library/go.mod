module github.com/example/retry/v2

go 1.24
