from ptmgraph.cli.app import main

main()
