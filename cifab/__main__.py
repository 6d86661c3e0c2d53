from cifab.cli import main

main()
