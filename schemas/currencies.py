"""ISO 4217 currencies and their minor units: how many decimal places an amount may have.

Most currencies have two decimal places; some none (JPY, KRW, the CFA francs), some three
(the dinars of Bahrain, Iraq, Jordan, Kuwait, Libya and Tunisia, the Omani rial). An amount in
a currency with fewer minor units than it is written with (JPY 10.5, EUR 1.005) is no amount
of that currency: it is refused where it enters (``schemas/common.py``, ``Money``).

Codes with no minor unit in ISO 4217 (precious metals such as XAU, the SDR XDR, the test and
no-currency codes XTS, XXX) are not currencies an amount can be counted in: an asset in gold is
valued in a currency. Codes withdrawn in recent years (HRK, SLL, CUC, ZWL, ANG, VEF) stay known:
a valuation recorded before their withdrawal is still a valuation in them.
"""

from __future__ import annotations

ZERO_DECIMALS = frozenset(
    "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF".split()
)
THREE_DECIMALS = frozenset("BHD IQD JOD KWD LYD OMR TND".split())
FOUR_DECIMALS = frozenset("CLF UYW".split())
"""Units of account with four decimal places; an amount is written with at most three
(``AMOUNT_PATTERN``), which these allow."""
TWO_DECIMALS = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN
    BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP
    GBP GEL GHS GIP GMD GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT
    LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO
    NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS
    SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VEF VES WST
    XCD XCG YER ZAR ZMW ZWG ZWL
    """.split()
)

MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(ZERO_DECIMALS, 0),
    **dict.fromkeys(TWO_DECIMALS, 2),
    **dict.fromkeys(THREE_DECIMALS, 3),
    **dict.fromkeys(FOUR_DECIMALS, 4),
}
"""Every currency an amount may be in, with its ISO 4217 minor units."""


def minor_units(currency: str) -> int:
    """The decimal places of ``currency``; ``KeyError`` if it is no currency ISO 4217 counts
    amounts in."""
    return MINOR_UNITS[currency]
