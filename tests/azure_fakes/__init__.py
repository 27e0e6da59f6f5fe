"""Local stand-ins for Azure services, driven by the real Azure SDKs in tests.

tokens.TokenEndpoint  managed-identity token endpoint (IMDS / App Service routes)
keyvault.KeyVault     HTTPS Key Vault secrets API with injectable failures
azurite.Azurite       Azurite blob emulator subprocess with several storage accounts
serve                 `python -m tests.azure_fakes.serve --help`: run them in the foreground
pytest_plugin         fixtures: token_endpoint, key_vault, secret_client, azurite, azurite_https
"""

from __future__ import annotations

from .azurite import Azurite, StorageAccount
from .keyvault import KeyVault
from .tokens import TokenEndpoint, jwt_claims

__all__ = ["Azurite", "KeyVault", "StorageAccount", "TokenEndpoint", "jwt_claims"]
