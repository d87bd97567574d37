"""Sources → one typed record stream (:mod:`ptmgraph.domain`). Nothing here touches a store."""
