"""The chain side of Lotlink: compiling the contracts, running the local node, deploying."""
