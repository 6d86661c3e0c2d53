module gitlab.example.com/shop/orders

go 1.26.1
