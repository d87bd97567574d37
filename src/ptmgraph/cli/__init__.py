"""The ptmgraph command line: thin; it parses, calls the package and renders."""
