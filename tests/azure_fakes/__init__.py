"""Local stand-ins for Azure services, driven by the real Azure SDKs in tests."""
