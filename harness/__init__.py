"""What the tests and the benchmarks share: real server processes, fresh databases, a webhook
receiver, a hot standby, the fuzzer."""
