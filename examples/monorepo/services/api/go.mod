module gitlab.example.com/shop/api

go 1.26.1
