"""Assets and the persons or entities concerned, described so they map onto FollowTheMoney."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from schemas.common import Frozen, Identifier, Ids, Money, StateCode


class AssetKind(StrEnum):
    """Asset kinds; ``ftm_schema`` names the FollowTheMoney schema each maps onto."""

    REAL_ESTATE = "real_estate"
    BANK_ACCOUNT = "bank_account"
    VEHICLE = "vehicle"
    VESSEL = "vessel"
    AIRCRAFT = "aircraft"
    COMPANY_SHARES = "company_shares"
    SECURITY = "security"
    CRYPTO_WALLET = "crypto_wallet"

    @property
    def ftm_schema(self) -> str:
        return _FTM_SCHEMA[self]


_FTM_SCHEMA = {
    AssetKind.REAL_ESTATE: "RealEstate",
    AssetKind.BANK_ACCOUNT: "BankAccount",
    AssetKind.VEHICLE: "Vehicle",
    AssetKind.VESSEL: "Vessel",
    AssetKind.AIRCRAFT: "Airplane",
    AssetKind.COMPANY_SHARES: "Company",
    AssetKind.SECURITY: "Security",
    AssetKind.CRYPTO_WALLET: "CryptoWallet",
}


class PartyKind(StrEnum):
    PERSON = "person"
    COMPANY = "company"
    ORGANIZATION = "organization"


class Party(Frozen):
    """A person or entity concerned by the request (FtM Person / Company / Organization)."""

    party_id: Identifier
    kind: PartyKind
    name: str = Field(min_length=1, max_length=300)
    nationality: StateCode | None = None
    role: str = Field(default="person concerned", max_length=100)


class Asset(Frozen):
    """One asset as the Court knows it or as a State identified it."""

    asset_id: Identifier
    kind: AssetKind
    description: str = Field(min_length=1, max_length=1000)
    location_country: StateCode | None = None
    location: str | None = Field(default=None, max_length=500)
    registry_reference: str | None = Field(
        default=None, max_length=200, description="Land/ship/company register entry, IBAN, ..."
    )
    owner_party_ids: Ids = ()
    ownership_percentage: float | None = Field(default=None, gt=0, le=100)
    estimated_value: Money | None = None
