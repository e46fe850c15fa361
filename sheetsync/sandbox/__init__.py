"""The local emulator of the KSS and Kotis APIs: synthetic data, routes, and a loopback server.

Use `sheetsync.sandbox.server.start_sandbox()` in-process, or `sheetsync sandbox serve` out of process.
"""
