"""The local management plane and simulators that tests, `capy dev` and benchmarks run on."""
