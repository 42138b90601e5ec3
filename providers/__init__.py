"""capy infrastructure provider: CapyCluster and CapyMachine on four clouds."""
