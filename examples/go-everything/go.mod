module gitlab.example.com/tools/kitchen-sink

go 1.26.1

toolchain go1.26.3
