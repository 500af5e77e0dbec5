"""Shared test corpora: planted syndication families written out in full."""

from __future__ import annotations

from pathlib import Path

import pytest

from dedup.model import Article

ROOT = Path(__file__).resolve().parents[1]
ALASKA = ROOT / "benchmarks" / "corpora" / "alaska-summit"

WIRE_STORM = (
    "MIAMI (Reuters) - Hurricane Delia strengthened into a Category 4 storm on Tuesday as it "
    "churned toward the Florida Keys, forcing officials to order the evacuation of more than "
    "200,000 residents from low-lying coastal areas.\n"
    "The National Hurricane Center said the storm was packing maximum sustained winds of 130 "
    "miles per hour and could make landfall near Key West late on Wednesday night.\n"
    "Governor Maria Alvarez declared a state of emergency for 23 counties and activated 5,000 "
    "members of the National Guard to help with evacuations and relief supplies.\n"
    "Long lines formed at petrol stations across the southern tip of the peninsula, and several "
    "supermarkets in Monroe County reported running out of bottled water by midday.\n"
    "Forecasters warned of a storm surge of up to 12 feet along the western coast, with heavy "
    "rainfall likely to cause flash flooding as far north as Tampa Bay.\n"
    "Airlines cancelled more than 1,400 flights in and out of Miami International Airport, and "
    "the cruise operator Carnival diverted three ships to ports in the Bahamas.\n"
    "Insurers estimated that insured losses could exceed $20 billion if the storm hit the Miami "
    "metropolitan area directly, according to the risk modelling firm Verisk.\n"
    "Delia is the fourth hurricane of an unusually active Atlantic season, which scientists have "
    "linked to record warm sea surface temperatures in the Gulf of Mexico.\n"
    "Reporting by Ana Torres; Editing by Mark Potter"
)

WIRE_BANK = (
    "FRANKFURT (AP) - The European Central Bank left its main interest rate unchanged at 3.75 "
    "percent on Thursday, saying inflation in the euro zone was cooling more slowly than it had "
    "hoped.\n"
    "Bank President Claudia Weiss told reporters in Frankfurt that policymakers had discussed a "
    "cut but agreed that wage growth remained too strong to justify one this month.\n"
    "Consumer prices in the 20 countries that use the euro rose 2.9 percent in the year to "
    "September, well above the bank's target of two percent.\n"
    "The decision disappointed investors who had bet on an early easing, and the euro climbed "
    "half a cent against the dollar within minutes of the announcement.\n"
    "Economists at Deutsche Bank said they now expected the first reduction in December at the "
    "earliest, pointing to stubborn price rises in the services sector.\n"
    "Germany, the bloc's largest economy, is expected to shrink slightly this year as high energy "
    "costs weigh on its factories and exporters struggle with weak demand from China."
)

LOCAL_INTRO = (
    "Residents of Sunnyvale Park gathered at the community hall on Tuesday evening to share "
    "sandbags and check on elderly neighbours before the weather turned.\n"
    "Local councillor Dave Brennan said the town's shelters at the high school and the library "
    "would open at 6 a.m. and would accept pets in carriers.\n"
)

UNRELATED = (
    "The city library will extend its opening hours during the summer holidays, the council "
    "announced on Monday, after a survey found strong demand from students and parents.\n"
    "From July, the central branch will stay open until 9 p.m. on weekdays and will open on "
    "Sunday afternoons for the first time in its 120-year history.\n"
    "The cost of the extra staff, about 85,000 pounds, will be met by a grant from a local "
    "charitable foundation, the council said in a statement.\n"
    "Chief librarian Helen Marsh said reading clubs for teenagers had doubled in size since the "
    "pandemic and that the new hours would give them more space to meet."
)

SAME_TOPIC = (
    "Families in the Florida Keys were packing their cars before dawn as a powerful hurricane "
    "approached, with many saying they had never seen such a rush to leave the islands.\n"
    "At a gas station in Marathon, Jim Keller said he had waited almost two hours for fuel and "
    "planned to drive to his sister's home near Orlando.\n"
    "Shop owners boarded up windows along Duval Street while emergency crews cleared drains and "
    "moved fire engines to higher ground away from the shoreline.\n"
    "Hotel managers said most tourists had already left, though a few visitors were still trying "
    "to change flights after several airlines cut their schedules."
)


def _paragraphs(text: str) -> list[str]:
    return text.split("\n")


def planted() -> dict[str, str]:
    """A small corpus with the families newspapers make of wire copy."""
    storm = _paragraphs(WIRE_STORM)
    body = storm[:-1]  # without the credit line
    trimmed = "\n".join(body[:5])
    moved = "\n".join(body[4:] + body[:4])
    reworded = (
        "Hurricane Delia grew into a Category 4 storm on Tuesday while heading for the Florida "
        "Keys, and officials told more than 200,000 people in low-lying coastal areas to leave.\n"
        "According to the National Hurricane Center, the storm's maximum sustained winds reached "
        "130 miles per hour and it could come ashore near Key West late Wednesday night.\n"
        "Governor Maria Alvarez declared an emergency in 23 counties, activating 5,000 National "
        "Guard members to help with evacuations and to deliver relief supplies.\n"
        "Across the southern tip of the peninsula long lines formed at petrol stations, while "
        "several Monroe County supermarkets said they ran out of bottled water by midday.\n"
        "A storm surge of up to 12 feet was possible on the western coast, forecasters warned, "
        "and heavy rain would likely bring flash flooding as far north as Tampa Bay."
    )
    return {
        "wire/storm.txt": WIRE_STORM,
        "copies/verbatim.txt": WIRE_STORM,
        "copies/trimmed.txt": trimmed,
        "copies/local.txt": LOCAL_INTRO + "\n".join(body),
        "copies/moved.txt": moved,
        "copies/reworded.txt": reworded,
        "wire/bank.txt": WIRE_BANK,
        "copies/bank_copy.txt": "ECB holds rates\n" + WIRE_BANK,
        "other/library.txt": UNRELATED,
        "other/keys_families.txt": SAME_TOPIC,
    }


STORM_FAMILY = ("copies/local.txt", "copies/moved.txt", "copies/reworded.txt",
                "copies/trimmed.txt", "copies/verbatim.txt", "wire/storm.txt")
BANK_FAMILY = ("copies/bank_copy.txt", "wire/bank.txt")


@pytest.fixture
def planted_articles() -> list[Article]:
    return [Article(id=k, text=v) for k, v in sorted(planted().items())]


@pytest.fixture
def planted_dir(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    for name, text in planted().items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root
