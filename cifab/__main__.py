from cifab.entry import run

run()
