module gitlab.example.com/platform/ledger

go 1.26.1
