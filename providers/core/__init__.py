"""The contract engine: what every backend shares about CapyCluster and CapyMachine."""
