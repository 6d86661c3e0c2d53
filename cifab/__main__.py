from cifab.cli import run

run()
