"""Seeded generator of wire-copy syndication corpora with known truth.

``generate(n)`` streams ``n`` synthetic news articles in which some stories are
republished the way newspapers treat wire copy; ``write_corpus`` writes them to
disk with the truth; ``python -m benchmarks.generate OUT_DIR --n 1000 --seed 0``
does the same from the shell.

Output of ``write_corpus(out_dir, n, seed)``::

    out_dir/articles/<id>.txt   the article text, exactly (UTF-8, no trailing newline)
    out_dir/articles.jsonl      {"id", "text", "title", "published", "source", "url"} a line
    out_dir/truth.json          families, negatives, seed, generator version, pool stats

Text sources
============
* **Wire pool** - the news sources of the PAN 2013 text-alignment training
  corpus (the second column of ``05-summary-obfuscation/pairs``: 237 DUC news
  stories, AP/NYT/WSJ/FT style). They are split into sentences and grouped
  into **topic groups** by TF-IDF cosine (sublinear tf, English stop words,
  ``min_df=2``, ``max_df=0.5``) and average-linkage clustering cut at cosine
  distance 0.87, which recovers the DUC topic sets (Exxon Valdez, Clarence
  Thomas, Shining Path, Channel tunnel, ...): 33 groups of 1-17 documents.
* **Web pool** - every other ``src/source-document*.txt`` (web pages, ~21 MB).
  Only prose-looking sentences are kept (6-70 words, capitalised start, final
  punctuation, no markup/navigation/boilerplate words). ``susp/`` documents are
  not used: they contain passages copied from ``src/``.
* Both pools are **deduplicated at the word 6-gram level**: a sentence is dropped
  if it shares any lower-cased word 6-gram with an earlier sentence (some DUC
  stories are AP rewrites of one another; some web pages repeat each other).
  After this, no two pool sentences share a 6-gram: ~72.8k sentences remain
  (~8.1k wire, the rest web).
* **Example corpus** (``example_dir``, default ``benchmarks/corpora/alaska-summit``):
  when ``n_articles >= 50`` its five real reports are embedded: 001 (Reuters) is
  the original of a family whose other member, 004, is a human rewrite (kind
  ``paraphrase``, family ``origin: "example"``); 000, 002 and 003 are
  ``same_topic`` negatives.

Every pool sentence is used once: the truth holds at any size
=============================================================
Pool text is handed out **without replacement**, so no sentence of the pool
appears in two stories (a family's original, a negative, a copy's local
paragraphs); only a family's copies repeat its original's text:

* wire: each DUC document is cut into **slots** (runs of consecutive sentences,
  about 2.8-4.2k characters; 374 in all); every slot is used by at most one
  article;
* web: the documents, in a seeded order, form one long sentence stream that is
  consumed contiguously and only once.

Family originals come first: unused wire slots (topic groups weighted by their
unused slots), then, once every slot is taken, unused web text (a stretch of
the web stream dressed as wire copy: ``topic`` null). Once the web stream is
used up too, **no more families** are made: their planned articles become
``unrelated`` negatives (``truth["pool"]["families_dropped"]``). The pool holds
about 3,000 families (374 from wire slots, ~2,600 from web text), so
``family_share`` 0.4 holds up to about 35k articles; a 100k corpus has 3,009
families (16% of its articles in families).

Negatives and local paragraphs take unused pool text while there is some
(``same_topic``: an unused slot of the family's topic group; ``unrelated`` and
local paragraphs: the web stream) and otherwise **fresh text**: sentences
written by a seeded class-trigram model of the pool (``_FreshText``): the
sequence of function words, punctuation and content-word shapes (-s, -ed, -ing,
-ly, -tion, capitalised, number) follows trigram statistics of all pool
sentences; each content word is drawn independently from the pool's words of
its shape (weights ``count ** 0.5``), for ``same_topic`` text 60% of them from
the topic group's own words (weights ``count``, so its names recur). Sentences
are redrawn until every window of 8 consecutive words holds at least three
content words, so fresh text shares no sentence with the pool or with other
fresh text, and an 8-word passage only by a coincidence of three independently
drawn content words. Fresh text is locally grammatical-looking word salad:
easy to tell apart from news, but it is only ever a negative (or a copy's local
paragraphs). ``GeneratedArticle.fresh`` and ``truth["pool"]`` tell how much of
a corpus is fresh (seed 0: 1k: 15 of 742 stories, all ``same_topic`` of small
topic groups; 10k: 3,922 of 7,438 - every ``same_topic`` negative and half of
the ``unrelated``; 100k: 87,404 of 90,412).

The tests check on a 2,000-article corpus that no two articles outside a
common family share a word 8-gram inside a sentence, or two 8-grams in all
(datelines, credit lines and the boilerplate template lines set aside), and on
a tiny pool that every pool sentence lands in one family or negative only.

Families
========
A family is a wire **original** - a wire slot (or, once slots run out, unused
web text; see above) split into short wire-style paragraphs, from an agency
(AP, Reuters, AFP, PA) with a dateline (``WASHINGTON (AP) — ``), an end
credit line (``Reporting by ...; Editing by ... (Reuters)``), both, or
neither (the original keeps a credit 75% of the time) - and 1-7 **copies**
published by outlets later (1 minute to 3 days, log-uniform). Each copy keeps
the dateline and the end credit with probability 0.5 each and has exactly one
edit kind (``EDIT_KINDS``), assigned from a shuffled round-robin so all kinds
are about equally frequent:

``verbatim``
    the original body unchanged.
``trimmed``
    the body cut from the bottom at a paragraph (or, if paragraphs are long, a
    sentence) boundary, keeping 40-80% of its characters; a prefix of the body.
``local_intro`` / ``local_outro``
    one or two local paragraphs (fresh web text) before / after the body,
    which is kept as one contiguous block.
``boilerplate``
    headline, byline and date lines on top, "Related: ..." / "Advertisement" /
    "READ MORE: ..." lines between paragraphs, share/newsletter/copyright lines
    at the bottom (per-outlet templates, so one outlet's boilerplate repeats
    across its articles, as on real sites). All body paragraphs kept in order.
``sentences_dropped``
    15-35% of the sentences (never the lead, at least one in mid-text) removed.
``paragraphs_moved``
    the lead stays; one to three other paragraphs are moved elsewhere.
``copy_edits``
    house style: US/UK spelling flipped both ways (``SPELLING``), numbers one to
    nine in digits or words, "percent"/"per cent", day names shifted to another
    day, "Mr." without a full stop, plus 2-5 synonym swaps.
``merged``
    the first 50-80% of one original followed by the first 30-60% of another
    original (another family, preferably another topic); the article is a member
    of both families and recorded with kind ``merged`` in both.
``paraphrase``
    a rewrite keeping the facts in order: synonym swaps from ``SYNONYMS`` (about
    650 entries, ~830 words with regular -s/-ed forms; directional, so
    "said" -> "stated" but not "state" -> "say"), phrase rewrites ("more than 5"
    -> "over 5", "because of" -> "due to", "the X of the Y" -> "the Y's X"),
    clauses reordered around "said", "according to" and leading/trailing
    subordinate, prepositional or time clauses, passive to active, pairs
    swapped ("sea lions and ducks"), long sentences split at ", and"/", but"/
    ";", short neighbours joined. Sentences that still keep over 40% of their
    word 5-grams get further rewrites (filler adverbs dropped, numbers in
    words, an appositive dropped, ...); if the whole body still keeps over 42%,
    the most-copied sentences are condensed (trailing participial/relative
    clause dropped) or, up to a quarter of them, left out. Measured on 97
    paraphrases: 37% of the original's word 5-grams survive on average (at
    most 42%), 77% of its content words (at least 70%). The human rewrite
    001->004 keeps 2% and 50%: synthetic paraphrases are easier than real ones.

The original is always the earliest member of its family. Family sizes are
drawn uniformly from 2-8 (a merged article adds a member to its second family,
never beyond 8) until the family articles make up ``family_share`` (default
0.4) of the corpus.

Negatives
=========
All other articles. ``unrelated`` ones are unused web text, else fresh text
(2-4k characters, title from the lead sentence). ``same_topic`` ones
(``same_topic_share`` of the negatives, default 0.3) are each tied to a family
with a wire original whose topic group has 2+ documents and 75+ sentences:
wire text from the *same topic group* - another unused slot, preferably of
another DUC document, or once the group's slots run out fresh text with the
group's vocabulary - published within two days of it; 30% carry a wire
dateline of their own. They share names and vocabulary with the family but no
passage, and must not be reported as reuse.

Determinism
===========
Only ``random.Random`` seeded from blake2b hashes of ``(seed, purpose, index)``
and ``numpy.random.default_rng(seed)`` are used; files are read in sorted
order; nothing depends on set order, hash randomisation or the clock. The same
arguments give byte-identical files. Article ids are assigned in a shuffled
order, so neither ids nor file order reveal families.

Known limits
============
* Web "unrelated" articles are web pages (recipes, forums, product pages, some
  spam), not news; they are easy negatives. The hard negatives are
  ``same_topic`` and the embedded example.
* The pool limits the families to about 3,000: beyond ~35k articles the
  family share falls below ``family_share`` and the corpus fills up with
  ``unrelated`` negatives of fresh text. From 10k on, originals beyond the 374
  wire slots are web text (forums, product pages, ...) dressed as wire copy,
  and every ``same_topic`` negative is fresh text: word salad sharing the
  topic's vocabulary, an easier negative than a real report on the same event.
* Fresh text is not fluent; paraphrased text can be ungrammatical in places;
  synonym swaps ignore word sense.
* Titles are cut from lead sentences; copies keep the original's title half of
  the time, so titles alone are a strong (too strong) signal.
* Topic groups come from clustering, not from DUC's own topic labels (not in
  the corpus); two groups are single documents, which get no ``same_topic``
  negatives.
* The dateline city is the first dateline city named in the story's first
  paragraphs, else a random one; reporter/editor names are random.
* The truth lists reuse by construction only; a detector finding boilerplate
  shared between two copies of the same outlet is not finding wire reuse.

Size and speed (seed 0, including ~5 s to load the pools once per process and
~5 s to build the fresh-text model when needed; measured on 2 cores shared with
other jobs): 1k articles in ~10 s; 10k in ~40-50 s (32 MB of JSONL, mean
article ~3.0k characters); 100k in ~7.7 minutes, peak RSS 325 MB. Only the
plan (sentence ids per story) and a cache of rendered originals are kept in
memory; articles are rendered as they are yielded.
"""

from __future__ import annotations

import argparse
import bisect
import hashlib
import json
import math
import random
import re
import sys
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "DEFAULT_EXAMPLE_DIR",
    "DEFAULT_PAN_DIR",
    "EDIT_KINDS",
    "GENERATOR_VERSION",
    "NEGATIVE_KINDS",
    "CorpusGenerator",
    "GeneratedArticle",
    "OverlapReport",
    "accidental_overlap",
    "content_words",
    "generate",
    "main",
    "ngram_containment",
    "split_paragraphs",
    "split_sentences",
    "strip_credit",
    "strip_dateline",
    "word_ngrams",
    "write_corpus",
]

GENERATOR_VERSION = "2.0.0"

#: The edit kinds of family copies, in the order they are documented.
EDIT_KINDS: tuple[str, ...] = (
    "verbatim",
    "trimmed",
    "local_intro",
    "local_outro",
    "boilerplate",
    "sentences_dropped",
    "paragraphs_moved",
    "copy_edits",
    "merged",
    "paraphrase",
)

#: The kinds of negative (non-reused) articles.
NEGATIVE_KINDS: tuple[str, ...] = ("unrelated", "same_topic")

DEFAULT_PAN_DIR = Path(__file__).resolve().parents[2] / "shared/corpora/pan13-train"
DEFAULT_EXAMPLE_DIR = Path(__file__).resolve().parent / "corpora/alaska-summit"

_BASE_TIME = datetime(2024, 1, 1, tzinfo=timezone.utc)
_TIME_SPAN = 730 * 86400
_PARA_SEP = "\n\n"
_TOPIC_CUT = 0.87  # average-linkage cosine distance at which topic groups are cut
_SLOT_CHARS = 2800  # a wire slot closes once it reaches this many characters
_EXAMPLE_MIN_ARTICLES = 50
_DEDUPE_N = 6  # pool sentences sharing a word 6-gram with an earlier one are dropped

# --------------------------------------------------------------------------------------------
# Text utilities (public: the tests and the benchmark use them)
# --------------------------------------------------------------------------------------------


def _wordlist(text: str) -> list[str]:
    """The whitespace-separated words of a (multi-line) string literal."""
    return text.split()


_WORD_RE = re.compile(r"\w+")
_SENT_BOUNDARY = re.compile(
    r"(?<=[.!?])([\"'\u201d\u2019)\]]*)(\s+)(?=[\"'\u201c\u2018(\[]?[A-Z0-9])"
)
_ABBREVIATIONS = frozenset(
    _wordlist(
        """mr mrs ms dr st gen sen rep gov lt col sgt capt maj jr sr inc corp co ltd no vs jan
feb mar apr aug sept sep oct nov dec mt ft rev prof adm cmdr ave blvd dept univ assn bros calif fla
ga ill mass mich minn nev okla tenn tex va wash wis wyo ariz colo conn ind kan ky md miss mo
mont neb ore vt etc approx est"""
    )
)
_AGENCY_TAGS = ("AP", "Reuters", "AFP", "PA")
_DATELINE_RE = re.compile(r"^[A-Z][A-Z .,'\-]{1,40} \((?:AP|Reuters|AFP|PA)\) (?:\u2014|-) ")
_END_CREDIT_RE = re.compile(
    r"^(?:Reporting by [^\n]{2,160}|(?:Additional|With) reporting by [^\n]{2,120}"
    r"|Associated Press writers? [^\n]{2,120} contributed to this report\."
    r"|[^\n]{0,80}\((?:AP|Reuters|AFP|PA)\)|Reuters|AP|AFP|PA Media)$"
)


def split_paragraphs(text: str) -> list[str]:
    """Split a generated text into its paragraphs (separated by blank lines).

    Args:
        text: An article text.

    Returns:
        The non-empty paragraphs, stripped.
    """
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences (rule based, abbreviation aware).

    Args:
        text: One paragraph or a whole text (newlines are treated as spaces).

    Returns:
        The sentences, stripped, in order.
    """
    text = " ".join(text.split())
    out: list[str] = []
    start = 0
    for m in _SENT_BOUNDARY.finditer(text):
        end = m.start(2)
        if not m.group(1) and text[m.start() - 1] == ".":
            w = re.search(r"(\w+)\.$", text[max(start, m.start() - 12) : m.start()])
            if w and (len(w.group(1)) == 1 or w.group(1).lower() in _ABBREVIATIONS):
                continue
        out.append(text[start:end])
        start = m.end()
    if start < len(text):
        out.append(text[start:])
    return [s for s in (s.strip() for s in out) if s]


def strip_dateline(text: str) -> str:
    """Remove a leading wire dateline such as ``WASHINGTON (AP) — ``.

    Args:
        text: An article text or paragraph.

    Returns:
        ``text`` without the dateline (unchanged if there is none).
    """
    m = _DATELINE_RE.match(text)
    return text[m.end() :] if m else text


def strip_credit(text: str) -> str:
    """Remove the wire credit of a text: a leading dateline and a final credit paragraph.

    This gives the *body* of an original, which verbatim copies reproduce
    exactly and trimmed copies reproduce a prefix of.

    Args:
        text: An article text.

    Returns:
        The text without dateline and end credit line.
    """
    text = strip_dateline(text)
    head, sep, last = text.rpartition(_PARA_SEP)
    if sep and _END_CREDIT_RE.match(last.strip()):
        text = head
    return text


def word_ngrams(text: str, n: int) -> set[tuple[str, ...]]:
    """The set of lower-cased word n-grams of a text (words are ``\\w+`` runs).

    Args:
        text: Any text.
        n: The n-gram length.

    Returns:
        The set of n-grams, as tuples of words.
    """
    words = _WORD_RE.findall(text.lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def ngram_containment(a: str, b: str, n: int = 5) -> float:
    """Share of ``a``'s word n-grams that also occur in ``b``.

    Args:
        a: The reference text (e.g. an original).
        b: The other text (e.g. a paraphrase).
        n: The n-gram length.

    Returns:
        A value in [0, 1]; 0 if ``a`` has no n-gram.
    """
    ga = word_ngrams(a, n)
    return len(ga & word_ngrams(b, n)) / len(ga) if ga else 0.0


_STOPWORDS = frozenset(
    _wordlist(
        """a about above after again against all also am an and any are as at be because been before
being below between both but by can could did do does doing down during each few for from
further had has have having he her here hers herself him himself his how i if in into is it
its itself just me more most my myself no nor not now of off on once only or other our ours
out over own same she should so some such than that the their theirs them then there these
they this those through to too under until up very was we were what when where which while
who whom why will with would you your said says told would could may might must shall one
two three four five six seven eight nine ten also mr mrs ms"""
    )
)


def content_words(text: str) -> set[str]:
    """Lower-cased content words of a text: alphabetic, 4+ letters, not stop words.

    Args:
        text: Any text.

    Returns:
        The set of content words.
    """
    return {
        w
        for w in _WORD_RE.findall(text.lower())
        if len(w) >= 4 and w.isalpha() and w not in _STOPWORDS
    }


# --------------------------------------------------------------------------------------------
# Accidental overlap check
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OverlapReport:
    """Word n-gram sharing among a sample of articles that should share nothing.

    Attributes:
        articles: Number of texts compared.
        pairs: Number of pairs compared.
        pairs_sharing: Pairs sharing at least one n-gram.
        shared_ngrams: Sum over pairs of the number of shared n-grams.
        max_share: Largest ``|shared| / min(|A|, |B|)`` over pairs (n-gram sets).
        n: The n-gram length.
    """

    articles: int
    pairs: int
    pairs_sharing: int
    shared_ngrams: int
    max_share: float
    n: int

    @property
    def share_of_pairs(self) -> float:
        """Fraction of pairs sharing at least one n-gram."""
        return self.pairs_sharing / self.pairs if self.pairs else 0.0


def accidental_overlap(
    corpus_sample: Iterable[GeneratedArticle | str], n: int = 8
) -> OverlapReport:
    """Measure how much a sample of supposedly unrelated articles share word n-grams.

    Every pair of the sample is compared (through an inverted index, so a few
    thousand texts are fine). Use it on negatives, or on originals of
    different families: the generator's claim is that such pairs share
    essentially no word 8-gram.

    Args:
        corpus_sample: Generated articles or plain texts.
        n: The n-gram length (8 by default).

    Returns:
        An ``OverlapReport``.
    """
    texts = [a.text if isinstance(a, GeneratedArticle) else a for a in corpus_sample]
    grams = [word_ngrams(t, n) for t in texts]
    index: dict[tuple[str, ...], list[int]] = {}
    for i, g in enumerate(grams):
        for x in g:
            index.setdefault(x, []).append(i)
    shared: Counter[tuple[int, int]] = Counter()
    for holders in index.values():
        if len(holders) > 1:
            for j, a in enumerate(holders):
                for b in holders[j + 1 :]:
                    shared[(a, b)] += 1
    max_share = 0.0
    for (a, b), k in shared.items():
        denom = min(len(grams[a]), len(grams[b])) or 1
        max_share = max(max_share, k / denom)
    m = len(texts)
    return OverlapReport(
        articles=m,
        pairs=m * (m - 1) // 2,
        pairs_sharing=len(shared),
        shared_ngrams=sum(shared.values()),
        max_share=max_share,
        n=n,
    )


# --------------------------------------------------------------------------------------------
# Word tables
# --------------------------------------------------------------------------------------------

#: Synonyms, one entry a line: ``word alt1 alt2`` rewrites ``word`` as one of the
#: alternatives; ``= w1 w2 w3`` is a group whose words all stand for one another.
#: A hyphen stands for a space ("many-thousands" -> "many thousands").
SYNONYMS = """
said stated noted
told informed
tell inform
announced declared unveiled
reported disclosed revealed
= officials authorities
government administration
= big large
= huge enormous massive
important significant
main principal primary
= begin start
began started commenced
= help assist aid
= helped assisted aided
helping assisting aiding
showed revealed indicated
= buy purchase
= bought purchased
buying purchasing
= need require
= needed required
= try attempt
= tried attempted
= trying attempting
wanted wished
= nearly almost
almost nearly
however nevertheless nonetheless
during throughout
children youngsters
= killed slain
= died perished
= injured wounded hurt
= attack assault
= attacks assaults
= attacked assaulted
war conflict
troops soldiers forces
soldiers troops
= country nation
= countries nations
nation country
= company firm
= companies firms
workers employees
employees workers staff
money funds
prices costs
rise increase
rose climbed
fell dropped slipped
decline drop
proposal plan
legislation law
bill measure
agreement accord pact
= talks negotiations discussions
meeting gathering
leader chief
leaders chiefs
= spokesman spokesperson representative
spokeswoman spokesperson representative
statement announcement
expected anticipated
expect anticipate
= recently lately
= currently presently
immediately promptly
= quickly rapidly swiftly
slowly gradually
later subsequently
= often frequently
= usually typically generally
= completely entirely fully
= difficult hard tough
easy simple
= serious grave
severe serious
damage destruction
damaged harmed
= destroyed demolished wrecked
= area region
areas regions
region area
= residents inhabitants locals
= homes houses residences
= building structure
= buildings structures
= problem issue
= problems issues
issue matter
decision ruling
decide determine
decided determined
effort attempt
efforts attempts
support backing
supported backed endorsed
oppose resist
opposition resistance
= critics opponents detractors
= criticized condemned faulted
criticised condemned faulted
criticism condemnation
= warned cautioned
claimed asserted
believe think
believed thought
think believe
saying stating
ended concluded finished
remain stay
remained stayed
receive obtain
received obtained
provide supply offer
provided supplied offered
allow permit
allowed permitted
prevent stop
prevented stopped
= rules regulations
banned prohibited outlawed
crisis emergency
= disaster catastrophe calamity
fire blaze
fires blazes
blaze fire
crash accident
accident mishap
victims casualties
= deaths fatalities
= scientists researchers
researchers scientists
= doctors physicians
= doctor physician
= disease illness
= diseases illnesses
treatment therapy
weapons arms
guns firearms
gun firearm
rebels insurgents militants
guerrillas insurgents
army military
candidate contender
candidates contenders
= lawmakers legislators
charged accused
arrested detained
= prison jail
jail prison
economic financial
trade commerce
growth expansion
industry sector
industries sectors
production output
farmers growers
heavy intense
= strong powerful
powerful strong
= biggest largest
largest biggest
nearby neighboring
despite notwithstanding
although though
also additionally
recent latest
previous prior earlier
former previous
each every
= whole entire
entire whole
information details
evidence proof
caused triggered
causing triggering
find discover
found discovered
seek pursue
sought pursued
worried concerned
concern worry
concerns worries
refused declined
rejected dismissed
approve authorize
approved authorized
launched initiated
build construct
built constructed
hit struck
struck hit
ordered directed
urged pressed
suggested proposed
argued contended
insisted maintained
admitted acknowledged conceded
denied rejected
confirmed verified
predicted forecast
amount sum
people individuals
cars vehicles
car vehicle
plane aircraft
planes aircraft
ship vessel
boat vessel
street road
town city
village hamlet
group organization
groups organizations
agency bureau
program scheme
project venture
goal aim objective
chance opportunity
risk danger
threat menace
safety security
fear dread
fears concerns
change shift
changes shifts
cuts reductions
raise increase
raised boosted
lowered reduced
show demonstrate
prove demonstrate
proved demonstrated
shown demonstrated
added remarked
explained elaborated
replied responded
answered responded
asked queried
elected chosen
won secured
lost forfeited
beat defeated
loss defeat
= rich wealthy
poor impoverished
= angry furious
happy pleased
sad unhappy
afraid fearful
sure certain
obvious evident
possible feasible
unlikely improbable
total overall
normal usual
unusual rare
strange odd
= famous renowned
popular well-liked
small little
fast quick
quick rapid
investigation inquiry probe
investigators inspectors
= experts specialists
specialist expert
= especially particularly
particularly especially
= similar comparable
= example instance
effect impact
impact effect
foreign overseas
current present
available accessible
probably likely
full complete
kind type
person individual
persons individuals
incident episode
incidents episodes
crews teams
chairman chair
commission panel
committee panel
border frontier
toward towards
reform overhaul
keep maintain
really truly
using employing
use utilize
whether if
within inside
less fewer
ago earlier
part portion
near close-to
across throughout
among amid
cases instances
spokesmen representatives
estimated reckoned
officers personnel
victim casualty
residents inhabitants
disclosed revealed
revealed disclosed
covered coated
summoned called
rescue save
unanswered unresolved
unexplained unclear
tricky difficult
= vessel ship
tanker ship
accidents crashes
circumstances conditions
ultimately eventually
violation breach
violations breaches
violating breaching
pristine unspoiled
spotted seen
unable powerless
required needed
qualified certified
separate distinct
vulnerable exposed
coordinate organize
steering guiding
capture catch
cleaning washing
wildlife animals
fears worries
stirring raising
waters seas
below beneath
outside beyond
first initial
jagged sharp
director head
late belated
pressure strain
course route
cost price
place location
citizens nationals
population populace
reports accounts
member participant
making creating
higher greater
women females
involved implicated
able capable
better improved
level degree
ground soil
burned scorched
behind beyond
care attention
best finest
policy strategy
study analysis
dead deceased
known recognized
worst gravest
give grant
move step
given granted
looking seeking
death demise
training instruction
crashed smashed
killing slaying
calls appeals
means methods
natural innate
conference meeting
paid compensated
research investigation
common widespread
operation procedure
special particular
real genuine
developing emerging
additional extra
benefits advantages
fact reality
legal lawful
attorney lawyer
lawyer attorney
conservative traditional
role part
actions measures
private personal
position stance
different distinct
continue proceed
makes produces
sent dispatched
occurred happened
equipment gear
movement campaign
reached attained
rate pace
wide broad
pain agony
carry bear
medical clinical
fight battle
= annual yearly
property assets
include encompass
return comeback
protection defense
done completed
response reaction
process procedure
violence brutality
wrong mistaken
relations ties
site location
complaints grievances
alleged supposed
charge accusation
budget spending
considered regarded
gave granted
media press
always invariably
actually really
brought delivered
management administration
soon shortly
contained held
worth valued
education schooling
injuries wounds
leading foremost
greater larger
passed approved
services offerings
single sole
personal private
spending expenditure
recorded logged
related connected
executive official
agreed consented
selling marketing
suffered endured
investment capital
families households
attention notice
failed flopped
majority bulk
leave depart
heat warmth
decades generations
= reporters journalists
letter note
ahead forward
worse poorer
demand call
placed put
temperatures readings
activity action
rather instead
necessary essential
arrest capture
review assessment
relief aid
situation circumstance
bring deliver
threatened menaced
beginning start
criminal unlawful
happened occurred
apparently evidently
share portion
heavily greatly
young youthful
figures numbers
comment remark
felt sensed
= dangerous hazardous
warning alert
records files
shows displays
controlled governed
survey poll
tests trials
possibility prospect
regional local
appears seems
followed trailed
route path
levels rates
instead rather
follow trail
progress advances
policies strategies
agencies bodies
closed shut
together jointly
results findings
approach method
simply merely
seems appears
compared contrasted
value worth
certainly definitely
losses damages
debate argument
smaller lesser
wants desires
happen occur
positive favorable
toll cost
middle center
range scope
clearly plainly
described portrayed
published printed
wrote penned
responsible accountable
spread extended
appeared emerged
analysts observers
= protesters demonstrators
demonstrators protesters
estimates projections
search hunt
strength force
seriously gravely
failure collapse
benefit advantage
scheduled slated
travel journey
kept retained
improve enhance
occur happen
claim assertion
predict forecast
future forthcoming
= perhaps maybe
protect shield
scene site
relatively comparatively
planned intended
measures steps
shortly soon
virtually practically
pushed pressed
takes requires
slow sluggish
agree concur
develop create
widespread pervasive
sources origins
experience background
highly extremely
active energetic
serve function
reasons grounds
senior elder
lack absence
changed altered
limit cap
adding supplementing
filed lodged
= therefore thus
assistance aid
increasingly progressively
beyond past
completed finished
event happening
sometimes occasionally
enforcement implementation
believes thinks
produced yielded
excessive undue
avoid evade
immediate instant
reach attain
indicate signal
respond react
shut closed
argument dispute
visit trip
signed sealed
quite fairly
pace rate
construction building
aside apart
visible noticeable
idea notion
planning preparation
purpose aim
designed intended
willing ready
release liberation
various diverse
moment instant
internal domestic
strategy approach
opening launch
pieces parts
allegations accusations
previously formerly
critical crucial
hopes aspirations
forced compelled
effective efficient
challenge test
quality standard
urban city
larger bigger
partly partially
solution remedy
mission task
except besides
flow stream
establish found
impossible unachievable
highest loftiest
continuing ongoing
becoming turning
keeping retaining
leaving departing
missing absent
identified named
treated handled
statements declarations
increasing growing
growing rising
rising mounting
continued persisted
continues persists
remaining leftover
began initiated
meanwhile simultaneously
nearly close-to
rapidly quickly
dozens scores
residents locals
many numerous
will would
may might
because since as
but yet
very extremely
""".strip()

#: US spelling -> UK spelling (copy edits flip either way).
SPELLING: dict[str, str] = dict(
    pair.split(":")
    for pair in _wordlist(
        """color:colour colors:colours center:centre centers:centres organization:organisation
organizations:organisations organized:organised defense:defence offense:offence
program:programme programs:programmes labor:labour favor:favour favorite:favourite
honor:honour honored:honoured neighbor:neighbour neighbors:neighbours
neighboring:neighbouring analyze:analyse realize:realise realized:realised
recognize:recognise recognized:recognised criticize:criticise criticized:criticised
apologize:apologise traveled:travelled traveling:travelling license:licence theater:theatre
gray:grey jewelry:jewellery fulfill:fulfil enrollment:enrolment catalog:catalogue
aluminum:aluminium tire:tyre tires:tyres meter:metre meters:metres liter:litre
kilometers:kilometres behavior:behaviour harbor:harbour rumor:rumour humor:humour
vapor:vapour modernize:modernise mobilize:mobilise authorized:authorised
privatization:privatisation civilization:civilisation emphasize:emphasise minimize:minimise
canceled:cancelled labeled:labelled modeling:modelling fueled:fuelled signaled:signalled
counselor:counsellor pediatric:paediatric maneuver:manoeuvre plow:plough skeptical:sceptical
check:cheque"""
    )
)

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_NUMBER_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

_FIRST_NAMES = _wordlist(
    """James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara
Richard Susan Joseph Jessica Thomas Sarah Charles Karen Daniel Nancy Matthew Lisa Anthony
Betty Mark Margaret Donald Sandra Steven Ashley Paul Kimberly Andrew Emily Joshua Donna
Kenneth Michelle Kevin Carol Brian Amanda George Melissa Timothy Deborah Ronald Stephanie
Edward Rebecca Jason Laura Jeffrey Sharon Ryan Cynthia Jacob Kathleen Gary Amy Nicholas
Angela Eric Shirley Jonathan Anna Stephen Brenda Larry Pamela Justin Nicole Scott Emma
Brandon Samantha Benjamin Katherine Samuel Christine Gregory Debra Alexander Rachel Patrick
Carolyn Frank Janet Raymond Maria Jack Olivia Dennis Heather Jerry Helen Tyler Catherine
Aaron Diane Jose Julie Adam Victoria Nathan Joyce Henry Lauren Zachary Kelly Douglas
Christina Peter Ruth Kyle Joan Noah Virginia Ethan Judith Jeremy Evelyn Walter Hannah
Christian Andrea Keith Megan Roger Cheryl Terry Jacqueline Austin Martha Sean Madison Gerald
Teresa Carl Gloria Harold Sara Dylan Janice Arthur Ann Lawrence Kathryn Jordan Abigail Jesse
Sophia Bryan Frances Billy Jean Bruce Alice Gabriel Judy Joe Isabella Logan Julia Alan Grace
Juan Amber Albert Denise Willie Danielle Elijah Marilyn Wayne Beverly Randy Charlotte
Vincent Natalie Mason Theresa Roy Diana Ralph Brittany Bobby Doris Russell Kayla Bradley
Alexis Philip Lori Eugene Marie"""
)
_SURNAMES = _wordlist(
    """Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez
Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris
Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill
Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips
Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook
Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward
Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez
Castillo Sanders Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan
Bell Coleman Butler Henderson Barnes Gonzales Fisher Vasquez Simmons Romero Jordan Patterson
Alexander Hamilton Graham Reynolds Griffin Wallace Moreno West Cole Hayes Bryant Herrera
Gibson Ellis Tran Medina Aguilar Stevens Murray Ford Castro Marshall Owens Harrison
Fernandez McDonald Woods Washington Kennedy Wells Vargas Henry Chen Freeman Webb Tucker
Guzman Burns Crawford Olson Simpson Porter Hunter Gordon Mendez Silva Shaw Snyder Mason
Dixon Munoz Hunt Hicks Holmes Palmer Wagner Black Robertson Boyd Rose Stone Salazar Fox
Warren Mills Meyer Rice Schmidt Garza Daniels Ferguson Nichols Stephens Soto Weaver Ryan
Gardner Payne Grant Dunn Kelley Spencer Hawkins Arnold Pierce Vazquez Hansen Peters Santos
Hart Bradley Knight Elliott Cunningham Duncan Armstrong Hudson Carroll Lane Riley Andrews
Alvarado Ray Delgado Berry Perkins Hoffman Johnston Matthews Pena Richards Contreras Willis
Carpenter Lawrence Sandoval"""
)
_DATELINE_CITIES = """WASHINGTON|NEW YORK|LONDON|PARIS|LOS ANGELES|CHICAGO|MIAMI|HOUSTON|BRUSSELS|
GENEVA|BERLIN|MOSCOW|TOKYO|BEIJING|NEW DELHI|JOHANNESBURG|SYDNEY|TORONTO|MEXICO CITY|ATLANTA|
DENVER|SAN FRANCISCO|BOSTON|SEATTLE|DALLAS|ROME|MADRID|VIENNA|NAIROBI|CAIRO|JERUSALEM|BANGKOK|
SINGAPORE|MANILA|SAO PAULO|BUENOS AIRES|LIMA|BOGOTA|OTTAWA|PHOENIX""".replace("\n", "").split("|")
_AGENCIES: tuple[tuple[str, str, str, float], ...] = (
    # tag, source name, domain, weight
    ("AP", "Associated Press", "apnews.example", 0.35),
    ("Reuters", "Reuters", "reuters.example", 0.35),
    ("AFP", "AFP", "afp.example", 0.15),
    ("PA", "PA Media", "pamedia.example", 0.15),
)
_TOWNS = _wordlist(
    """Springfield Riverton Lakeside Fairview Greenville Franklin Clinton Madison Georgetown Salem
Ashland Burlington Milford Oakdale Kingston Newport Dover Hudson Marion Bristol Chester
Dayton Lexington Auburn Clayton Florence Jackson Lancaster Milton Oxford Princeton Richmond
Shelby Trenton Vernon Warren Westfield Winchester Bedford Camden"""
)
_PAPERS = _wordlist(
    """Courier Gazette Herald Tribune Post Times Chronicle Observer Journal Sentinel Register
Examiner Bulletin Record Star Dispatch Independent Advocate Press Ledger"""
)
_OUTLETS: tuple[tuple[str, str], ...] = tuple(
    (f"The {town} {paper}", f"{town.lower()}{paper.lower()}.example")
    for i, town in enumerate(_TOWNS)
    for j, paper in enumerate(_PAPERS)
    if (i * 7 + j * 3) % 11 == 0
)
_HEADLINE_WORDS = {
    "noun": _wordlist(
        """council school board mayor budget road bridge park library hospital police festival
market museum team club court plan project station airport harbor factory farm clinic church
theater stadium zoo college election tax fund"""
    ),
    "verb": _wordlist(
        """approves delays rejects unveils opens closes expands reviews debates backs launches halts
cuts boosts celebrates honors names"""
    ),
    "adj": _wordlist(
        """new local annual major historic controversial revised downtown regional community public
summer winter"""
    ),
}


def _synonym_table(vocabulary: frozenset[str] = frozenset()) -> dict[str, tuple[str, ...]]:
    """The synonym table, plus regular -s/-ed forms of entries whose forms all occur in
    ``vocabulary`` (so "expected" -> "anticipated" but not "viewed" -> "opinioned")."""
    table: dict[str, tuple[str, ...]] = {}
    for line in SYNONYMS.splitlines():
        words = [w.replace("-", " ") for w in line.split() if w not in ("=", ">")]
        if len(words) < 2:
            continue
        sources = words if line.startswith("=") else words[:1]
        for w in sources:
            if w not in table:
                table[w] = tuple(x for x in words if x != w)
    # regular inflections of single-word entries (helps -> assists, expected -> anticipated)
    for w, alts in list(table.items()):
        if not _inflectable(w) or not all(_inflectable(a) for a in alts):
            continue
        for suffix in ("s", "ed"):
            form = _inflect(w, suffix)
            forms = tuple(_inflect(a, suffix) for a in alts)
            if form not in table and form in vocabulary and all(f in vocabulary for f in forms):
                table[form] = forms
    return table


_IRREGULAR = frozenset(
    """buy build find seek begin tell say hold keep take give get make see go come think bring
    fight win lose sell hit cut put set let hurt spread shut cost beat bear lead leave feel mean
    meet pay run send spend stand strike teach understand write break choose drive eat fall fly
    forget grow know lie ride rise shake show sing speak steal swim throw wake wear aid deal
    forecast shed quit slay read light spring sink stick sweep swing tear weep wind catch
    arise""".split()
)


_NO_INFLECT_ENDINGS = (
    *("s", "ed", "ing", "ly", "y", "x", "z", "ch", "sh", "ful", "al", "ous", "ive", "ic"),
    *("ent", "ant", "er", "est"),
)


def _inflectable(w: str) -> bool:
    return (
        w.isalpha()
        and w.islower()
        and 3 <= len(w) <= 10
        and w not in _IRREGULAR
        and not w.endswith(_NO_INFLECT_ENDINGS)
    )


def _inflect(w: str, suffix: str) -> str:
    if suffix == "s":
        return w + "s"
    return w + "d" if w.endswith("e") else w + "ed"


_UK_TO_US = {uk: us for us, uk in SPELLING.items()}

# --------------------------------------------------------------------------------------------
# Randomness
# --------------------------------------------------------------------------------------------


def _rng(seed: int, *parts: object) -> random.Random:
    """A ``random.Random`` seeded from a stable hash of ``(seed, *parts)``."""
    digest = hashlib.blake2b(repr((seed, *parts)).encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


# --------------------------------------------------------------------------------------------
# Pools
# --------------------------------------------------------------------------------------------

_BAD_WEB = re.compile(
    r"https?:|www\.|@|\||nbsp|\u00a9|[{}<>\t\\]|\.com\b|click|copyright|all rights reserved|"
    r"log ?in\b|sign up|cookie|subscribe|password|javascript|e-?mail"
)
_NON_LETTER = re.compile(r"[^A-Za-z ]")
_CAP_WORD = re.compile(r"(?:^| )[A-Z]")


def _good_web_sentence(s: str) -> bool:
    n_words = s.count(" ") + 1
    if not (6 <= n_words <= 70 and 40 <= len(s) <= 500):
        return False
    if not (s[0].isupper() or s[0] in '"\u201c') or s[-1] not in '.!?"\u201d':
        return False
    if len(_NON_LETTER.findall(s)) > 0.15 * len(s):
        return False
    if len(_CAP_WORD.findall(s)) > 0.4 * n_words or s.isupper():
        return False
    return not _BAD_WEB.search(s.lower())


def _good_wire_sentence(s: str) -> bool:
    n_words = s.count(" ") + 1
    if not (4 <= n_words <= 90 and 20 <= len(s) <= 700) or re.search(r"[{}<>|\t]|^End Adv", s):
        return False
    return len(_NON_LETTER.findall(s)) <= 0.2 * len(s) and s[-1] in ".!?\"\u201d'\u2019"


@dataclass(frozen=True)
class _Lex:
    """Word knowledge from the pool: common (lower-case) words and the synonym table."""

    common: frozenset[str]
    syn: dict[str, tuple[str, ...]]


@dataclass
class _Pool:
    """Deduplicated sentences and how they are grouped (independent of the seed)."""

    sentences: list[str]
    lengths: np.ndarray  # characters per sentence (+1 for the joining space)
    wire_docs: list[str]  # document names
    wire_doc_sents: list[np.ndarray]  # sentence ids per wire doc
    groups: list[list[int]]  # wire doc indices per topic group
    slots: list[list[tuple[int, np.ndarray]]]  # per group: (doc index, sentence ids)
    web_doc_sents: list[np.ndarray]
    lex: _Lex
    example: list[tuple[str, str]] = field(default_factory=list)  # (file name, text)
    fresh: Any = None  # the _FreshText model, built when first needed


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace").replace("\r", "")


@lru_cache(maxsize=1 << 16)
def _shape_class(word: str) -> str:
    if word.isdigit():
        return f"#{len(word)}"
    low = word.lower()
    for suffix in ("ing", "ed", "ly", "tion"):
        if low.endswith(suffix):
            return suffix
    if low.endswith("s") and not low.endswith(("ss", "us", "is")):
        return "s"
    return "w"


def _dedupe(sentences: list[str], n_gram: int = _DEDUPE_N) -> list[bool]:
    """Keep-flags: drop a sentence sharing a word n-gram with an earlier one (or equal to one)."""
    ids: dict[str, int] = {}
    toks: list[int] = []
    sids: list[int] = []
    seen_exact: set[str] = set()
    keep = [True] * len(sentences)
    for i, s in enumerate(sentences):
        words = _WORD_RE.findall(s.lower())
        key = " ".join(words)
        if key in seen_exact:
            keep[i] = False
            continue
        seen_exact.add(key)
        for w in words:
            toks.append(ids.setdefault(w, len(ids)))
        sids.extend([i] * len(words))
    if not toks:
        return keep
    tok = np.asarray(toks, dtype=np.uint64)
    sid = np.asarray(sids, dtype=np.int64)
    n = len(tok) - (n_gram - 1)
    if n <= 0:
        return keep
    h = np.zeros(n, dtype=np.uint64)
    mult = np.uint64(1099511628211)
    for k in range(n_gram):
        h = h * mult + tok[k : k + n] + np.uint64(1)
    valid = sid[:n] == sid[n_gram - 1 : n_gram - 1 + n]
    h, gsid = h[valid], sid[:n][valid]
    order = np.lexsort((gsid, h))
    h, gsid = h[order], gsid[order]
    first = np.ones(len(h), dtype=bool)
    first[1:] = h[1:] != h[:-1]
    owner = gsid[np.maximum.accumulate(np.where(first, np.arange(len(h)), 0))]
    for s in np.unique(gsid[gsid != owner]):
        keep[int(s)] = False
    return keep


def _topic_groups(texts: list[str]) -> list[list[int]]:
    """Group documents by TF-IDF cosine with average linkage (see module docstring)."""
    if len(texts) < 2:
        return [list(range(len(texts)))] if texts else []
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform
    from sklearn.feature_extraction.text import TfidfVectorizer

    min_df = 2 if len(texts) >= 10 else 1
    vec = TfidfVectorizer(stop_words="english", sublinear_tf=True, min_df=min_df, max_df=0.5)
    try:
        x = vec.fit_transform(texts)
    except ValueError:  # vocabulary empty after pruning
        return [[i] for i in range(len(texts))]
    sim = (x @ x.T).toarray()
    dist = np.clip(1.0 - sim, 0.0, None)
    np.fill_diagonal(dist, 0.0)
    labels = fcluster(linkage(squareform(dist, checks=False), "average"), _TOPIC_CUT, "distance")
    groups: dict[int, list[int]] = {}
    for i, lab in enumerate(labels):
        groups.setdefault(int(lab), []).append(i)
    return sorted(groups.values())


@lru_cache(maxsize=4)
def _load_pool(
    pan_dir: Path, example_dir: Path | None, wire_limit: int | None, web_limit: int | None
) -> _Pool:
    """Read, split, filter, deduplicate and group the source texts (cached per process)."""
    src = pan_dir / "src"
    pairs = pan_dir / "05-summary-obfuscation" / "pairs"
    if not src.is_dir() or not pairs.is_file():
        raise FileNotFoundError(f"not a PAN 2013 training corpus: {pan_dir}")
    wire_names = sorted({line.split()[1] for line in _read(pairs).splitlines() if line.strip()})
    if wire_limit is not None:
        wire_names = wire_names[:wire_limit]
    wire_set = set(wire_names)
    web_names = sorted(p.name for p in src.glob("source-document*.txt") if p.name not in wire_set)
    if web_limit is not None:
        web_names = web_names[:web_limit]

    wire_texts = [_read(src / name) for name in wire_names]
    raw: list[str] = []
    owner: list[int] = []  # doc index (wire: i, web: len(wire) + j)
    for i, text in enumerate(wire_texts):
        for s in split_sentences(text.replace("\n", " ")):
            if _good_wire_sentence(s):
                raw.append(s)
                owner.append(i)
    for j, name in enumerate(web_names):
        for line in _read(src / name).splitlines():
            if len(line) < 40:
                continue
            for s in split_sentences(line):
                if _good_web_sentence(s):
                    raw.append(s)
                    owner.append(len(wire_names) + j)
    keep = _dedupe(raw)
    sentences = [s for s, k in zip(raw, keep) if k]
    owners = [o for o, k in zip(owner, keep) if k]
    by_doc: dict[int, list[int]] = {}
    for sid, o in enumerate(owners):
        by_doc.setdefault(o, []).append(sid)
    wire_doc_sents = [np.asarray(by_doc.get(i, []), dtype=np.int32) for i in range(len(wire_names))]
    web_doc_sents = [
        np.asarray(by_doc[len(wire_names) + j], dtype=np.int32)
        for j in range(len(web_names))
        if len(by_doc.get(len(wire_names) + j, [])) >= 3
    ]
    lengths = np.asarray([len(s) + 1 for s in sentences], dtype=np.int64)

    groups = _topic_groups(wire_texts)
    slots: list[list[tuple[int, np.ndarray]]] = []
    for members in groups:
        group_slots: list[tuple[int, np.ndarray]] = []
        for d in members:
            ids = wire_doc_sents[d]
            cur: list[int] = []
            chars = 0
            doc_slots: list[list[int]] = []
            for sid in ids.tolist():
                cur.append(sid)
                chars += int(lengths[sid])
                if chars >= _SLOT_CHARS:
                    doc_slots.append(cur)
                    cur, chars = [], 0
            if cur:
                if chars < _SLOT_CHARS // 2 and doc_slots:
                    doc_slots[-1].extend(cur)
                else:
                    doc_slots.append(cur)
            for sl in doc_slots:
                if len(sl) >= 5 and sum(int(lengths[s]) for s in sl) >= 800:
                    group_slots.append((d, np.asarray(sl, dtype=np.int32)))
        slots.append(group_slots)

    cased: Counter[str] = Counter()
    for s in sentences:
        cased.update(_WORD_RE.findall(s))
    lower_counts: Counter[str] = Counter()
    cap_counts: Counter[str] = Counter()
    for w, c in cased.items():
        if w.islower():
            lower_counts[w] += c
        elif w[:1].isupper() and w[1:].islower():
            cap_counts[w.lower()] += c
    common = frozenset(w for w, c in lower_counts.items() if c >= 2 * cap_counts.get(w, 0))

    example: list[tuple[str, str]] = []
    if example_dir is not None and example_dir.is_dir():
        files = sorted(example_dir.glob("*.txt"))
        prefixes = {f.name[:3] for f in files}
        if {"000", "001", "002", "003", "004"} <= prefixes:
            for f in files:
                if f.name[:3] in {"000", "001", "002", "003", "004"}:
                    paras = [p.strip() for p in _read(f).split("\n") if p.strip()]
                    example.append((f.name, _PARA_SEP.join(paras)))
    return _Pool(
        sentences=sentences,
        lengths=lengths,
        wire_docs=wire_names,
        wire_doc_sents=wire_doc_sents,
        groups=groups,
        slots=slots,
        web_doc_sents=web_doc_sents,
        lex=_Lex(common, _synonym_table(frozenset(lower_counts))),
        example=example,
    )


# --------------------------------------------------------------------------------------------
# Streams: hand pool text out without replacement (every pool sentence used at most once)
# --------------------------------------------------------------------------------------------


class _WebStream:
    """Web sentences, documents in a seeded order, consumed contiguously and only once."""

    def __init__(self, pool: _Pool, seed: int) -> None:
        self.pool = pool
        docs = list(pool.web_doc_sents)
        _rng(seed, "web-order").shuffle(docs)
        self.order = np.concatenate(docs) if docs else np.zeros(0, dtype=np.int32)
        self.pos = 0
        self.cum = np.cumsum(pool.lengths[self.order]) if len(self.order) else np.zeros(0)

    @property
    def exhausted(self) -> bool:
        return self.pos >= len(self.order)

    def take(self, chars: int) -> np.ndarray | None:
        """Unused sentences worth at least ``chars`` characters, or None (and the stream
        is closed) when less than that is left."""
        if self.exhausted:
            return None
        before = int(self.cum[self.pos - 1]) if self.pos else 0
        end = int(np.searchsorted(self.cum, before + chars)) + 1
        if end > len(self.order):
            self.pos = len(self.order)
            return None
        ids = self.order[self.pos : end]
        self.pos = end
        return ids


class _WireStreams:
    """Wire slots per topic group, each handed out once."""

    def __init__(self, pool: _Pool, seed: int) -> None:
        self.pool = pool
        self.free: list[list[tuple[int, np.ndarray]]] = []
        for g, group_slots in enumerate(pool.slots):
            lst = list(group_slots)
            _rng(seed, "slots", g).shuffle(lst)
            self.free.append(lst)

    def pick_group(self, rng: random.Random) -> int:
        """A topic group with unused slots, weighted by their number; -1 if none is left."""
        weights = [len(f) for f in self.free]
        if sum(weights) == 0:
            return -1
        return rng.choices(range(len(weights)), weights=weights)[0]

    def take(self, g: int, avoid_doc: int = -1) -> tuple[np.ndarray, int] | None:
        """An unused slot of group ``g`` (preferably not of ``avoid_doc``): (ids, doc), or None."""
        free = self.free[g]
        if not free:
            return None
        pick = next((i for i, (d, _) in enumerate(free) if d != avoid_doc), 0)
        d, ids = free.pop(pick)
        return ids, d


# --------------------------------------------------------------------------------------------
# Fresh text: a seeded word-class model of the pool (shares no sentence with anything)
# --------------------------------------------------------------------------------------------

_FRESH_TOKEN = re.compile(r"[A-Za-z]+(?:['\u2019][a-z]+)?|[0-9]+|[,;:]")
_FRESH_MIN_CONTENT = 3  # content words in every window of 8 words of fresh text
_FRESH_WINDOW = 8
_FRESH_TOPIC_SHARE = 0.6  # same_topic fresh text: share of content words from the topic group
_CONTENT_CLASSES = frozenset(("w", "s", "ed", "ing", "ly", "tion", "Cap"))


def _token_class(tok: str, initial: bool) -> str:
    """The class of a pool token: function words and punctuation stand for themselves,
    content words for their shape (``w``, ``s``, ``ed``, ``ing``, ``ly``, ``tion``,
    ``Cap`` for a capitalised word inside a sentence, ``#`` for a number)."""
    if tok in ",;:":
        return tok
    if tok[0].isdigit():
        return "#"
    low = tok.lower()
    if low in _STOPWORDS or "'" in low or "\u2019" in low:
        return low if low in _STOPWORDS else "w"
    if tok[0].isupper() and not initial:
        return "Cap"
    return _shape_class(low)


@dataclass
class _Vocab:
    """Words of one class with cumulative sampling weights."""

    words: list[str]
    cum: list[float]

    def pick(self, rand: Callable[[], float]) -> str:
        return self.words[bisect.bisect_right(self.cum, rand() * self.cum[-1])]


def _vocab(counts: Counter[str], power: float) -> _Vocab:
    words = sorted(counts)
    cum = np.cumsum([counts[w] ** power for w in words]).tolist()
    return _Vocab(words, cum)


class _FreshText:
    """A class-trigram model of the pool's sentences that writes new sentences.

    The sequence of token classes (function words, punctuation and content-word
    shapes) comes from a trigram model trained on every pool sentence; content
    words are drawn independently from the pool's words of that shape (weights
    ``count ** 0.5``), or for ``same_topic`` text partly from the topic group's
    own words (weights ``count``). A sentence is redrawn until every window of 8
    consecutive words (across sentence ends too) holds at least three content
    words, so two fresh texts - or a fresh text and the pool - share an 8-word
    passage only when three independently drawn content words and five function
    words coincide: essentially never, and never a sentence.
    """

    def __init__(self, pool: _Pool) -> None:
        trans: dict[tuple[str, str], Counter[str]] = {}
        content: dict[str, Counter[str]] = {}
        self.sentence_group = np.full(len(pool.sentences), -1, dtype=np.int32)
        for g, members in enumerate(pool.groups):
            for d in members:
                self.sentence_group[pool.wire_doc_sents[d]] = g
        group_content: list[dict[str, Counter[str]]] = [{} for _ in pool.groups]
        for sid, s in enumerate(pool.sentences):
            toks = _FRESH_TOKEN.findall(s)
            if len(toks) < 4 or toks[0] in ",;:":
                continue
            a, b = "<s>", "<s>"
            g = int(self.sentence_group[sid])
            for i, tok in enumerate(toks):
                c = _token_class(tok, i == 0)
                if c in ",;:" and b in (",", ";", ":", "<s>"):
                    continue  # quotes and brackets dropped: no doubled punctuation
                trans.setdefault((a, b), Counter())[c] += 1
                if c in _CONTENT_CLASSES:
                    word = tok if c == "Cap" else tok.lower()
                    if word.isalpha() and 3 <= len(word) <= 14:
                        content.setdefault(c, Counter())[word] += 1
                        if g >= 0:
                            group_content[g].setdefault(c, Counter())[word] += 1
                a, b = b, c
            trans.setdefault((a, b), Counter())["</s>"] += 1
        self.trans = {
            k: (sorted(v), np.cumsum([v[x] for x in sorted(v)]).tolist()) for k, v in trans.items()
        }
        # words seen once are mostly typos and oddities
        self.content = {
            c: _vocab(Counter({w: k for w, k in cnt.items() if k >= 2}) or cnt, 0.5)
            for c, cnt in content.items()
        }
        self.group_content = [
            {c: _vocab(cnt, 1.0) for c, cnt in gc.items()} for gc in group_content
        ]

    def _sentence(self, rand: Callable[[], float], group: int) -> list[str]:
        toks: list[str] = []
        a, b = "<s>", "<s>"
        gvocab = self.group_content[group] if group >= 0 else {}
        while len(toks) < 60:
            nexts, cum = self.trans[(a, b)]
            c = nexts[bisect.bisect_right(cum, rand() * cum[-1])]
            if c == "</s>":
                break
            if c == "#":
                word = str(int(10 ** (1 + 3 * rand())))
            elif c in self.content:
                voc = gvocab.get(c) if gvocab and rand() < _FRESH_TOPIC_SHARE else None
                word = (voc or self.content[c]).pick(rand)
            else:
                word = c
            toks.append(word)
            a, b = b, c
        return toks

    @staticmethod
    def _is_content(tok: str) -> bool:
        return tok not in _STOPWORDS and tok[0] not in ",;:" and "'" not in tok

    def text(self, rng: random.Random, chars: int, group: int = -1) -> list[str]:
        """Fresh sentences worth about ``chars`` characters (at least two sentences)."""
        rand = rng.random
        out: list[str] = []
        tail: list[bool] = []  # content flags of the last words written
        total = 0
        while total < chars or len(out) < 2:
            for _try in range(50):
                toks = self._sentence(rand, group)
                words = [t for t in toks if t not in ",;:"]
                if not 6 <= len(words) <= 45 or toks[-1] in ",;:":
                    continue
                flags = tail + [self._is_content(w.lower()) for w in words]
                if all(
                    sum(flags[i : i + _FRESH_WINDOW]) >= _FRESH_MIN_CONTENT
                    for i in range(len(flags) - _FRESH_WINDOW + 1)
                ):
                    break
            s = ""
            for t in toks:
                s += t if t in ",;:" else (" " + t if s else t)
            s = s[:1].upper() + s[1:] + "."
            tail = flags[-(_FRESH_WINDOW - 1) :]
            out.append(s)
            total += len(s) + 1
        return out


def _match_case(word: str, like: str) -> str:
    if like.isupper() and len(like) > 1:
        return word.upper()
    if like[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


# --------------------------------------------------------------------------------------------
# Rewriting helpers (copy edits, paraphrase, titles)
# --------------------------------------------------------------------------------------------


def _fix_articles(text: str) -> str:
    """Fix "a"/"an" before words whose first letter changed."""

    def fix(m: re.Match[str]) -> str:
        art, nxt = m.group(1), m.group(2)
        low = nxt.lower()
        vowel = low[0] in "aeio" or (low[0] == "u" and not low.startswith(("uni", "use", "usu")))
        want = "an" if vowel else "a"
        if art[0].isupper():
            want = want.capitalize()
        return f"{want} {nxt}"

    return re.sub(r"\b(an?|An?)\s+([A-Za-z]\w*)", fix, text)


def _swap_words(sentence: str, rng: random.Random, prob: float, lex: _Lex) -> str:
    """Synonym swaps on lower-case (or sentence-initial) words from ``SYNONYMS``."""

    def repl(m: re.Match[str]) -> str:
        w = m.group()
        low = w.lower()
        alts = lex.syn.get(low)
        if not alts or rng.random() >= prob:
            return w
        if low == "many" and (
            sentence[m.end() : m.end() + 3] == " of"
            or sentence[max(0, m.start() - 4) : m.start()].lower() in ("how ", "too ", " so ")
        ):
            return w
        if w != low:
            # only a capitalised sentence-initial common word, never a name
            if m.start() > 0 and sentence[: m.start()].strip("\"'\u201c\u2018( "):
                return w
            if low not in lex.common:
                return w
        return _match_case(rng.choice(alts), w)

    return _fix_articles(re.sub(r"[A-Za-z]+(?:-[A-Za-z]+)?", repl, sentence))


def _headline(sentence: str) -> str:
    """A headline cut from a lead sentence."""
    s = strip_dateline(sentence).strip("\"'\u201c\u201d ")
    cut = re.split(r",|;|:| -- | \u2014 |\bsaid\b|\"|\u201c", s, maxsplit=1)[0]
    words = cut.split()
    if len(words) < 4:
        words = s.split()
    words = words[:10]
    while len(words) > 3 and words[-1].lower().strip(".,") in _STOPWORDS:
        words.pop()
    title = " ".join(words).rstrip(".,;:!?")
    return title[:1].upper() + title[1:] if title else "News"


def _lower_first(s: str, lex: _Lex) -> str:
    m = re.match(r"([\"'\u201c\u2018(]*)([A-Za-z]+)", s)
    if not m:
        return s
    w = m.group(2)
    if w.lower() in lex.common and w != "I" and not w.isupper():
        return s[: m.start(2)] + w.lower() + s[m.end(2) :]
    return s


def _upper_first(s: str) -> str:
    m = re.search(r"[A-Za-z]", s)
    if not m:
        return s
    i = m.start()
    return s[:i] + s[i].upper() + s[i + 1 :]


_SUBJ = r"(?P<subj>(?:[A-Z][\w.'\u2019-]*|the|a|an|of|[a-z]+)(?: [\w.'\u2019-]+){0,6})"
_SAID_FRONT = re.compile(rf"^{_SUBJ} said(?: that)? (?P<rest>[a-z][^\"\u201c\u201d]{{15,}})\.$")
_SAID_BACK = re.compile(
    r"^(?P<rest>[^\"\u201c\u201d]{20,}?), (?P<subj>[A-Za-z][\w.'\u2019 -]{1,60}?) said\.$"
)
_QUOTE_BACK = re.compile(
    r"^(?P<o>[\"\u201c])(?P<q>[^\"\u201c\u201d]{10,}?),(?P<c>[\"\u201d]) "
    r"(?P<subj>[A-Za-z][\w.'\u2019 -]{1,60}?) said\.$"
)
_QUOTE_FRONT = re.compile(
    r"^(?P<subj>[A-Z][\w.'\u2019 -]{1,60}?) said,? (?P<o>[\"\u201c])(?P<q>[^\"\u201c\u201d]{10,}?)"
    r"(?P<p>[.!?])(?P<c>[\"\u201d])$"
)
_LEAD_CLAUSE = re.compile(
    r"^(?P<conj>When|After|Before|Although|While|Because|If|Since|Though|Once|Until|In|On|At|"
    r"During|By|Last|Earlier|Later) (?P<sub>[^,\"\u201c]{4,100}), (?![A-Z][a-z]{0,4}\.)"
    r"(?P<main>[^\"\u201c]{15,})\.$"
)
_TAIL_CLAUSE = re.compile(
    r"^(?P<main>[^,\"\u201c]{20,}?) (?P<conj>because|after|before|although|while|when|since|until)"
    r" (?P<sub>[^,\"\u201c]{12,})\.$"
)
_PHRASES: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = tuple(
    (re.compile(p), alts)
    for p, alts in (
        (r"\bmore than (?=\$?\d)", ("over ", "in excess of ")),
        (r"\babout (?=\$?\d)", ("roughly ", "approximately ", "around ")),
        (r"\bbecause of\b", ("due to", "owing to")),
        (r"\bin order to\b", ("to",)),
        (r"\bas well as\b", ("and", "along with")),
        (r"\bafter (?=(?:the|a|an|his|her|their|its) )", ("following ",)),
        (r"\bbefore (?=(?:the|a|an|his|her|their|its) )", ("prior to ",)),
        (r"\bat least\b", ("no fewer than", "a minimum of")),
        (r"\bso far\b", ("to date", "thus far")),
        (r"\bin addition\b", ("additionally", "moreover")),
        (r"\ba number of\b", ("several", "various")),
        (r"\bseveral\b", ("a number of",)),
        (r"\btold reporters\b", ("said to journalists", "told journalists")),
        (r"\bon condition of anonymity\b", ("anonymously",)),
        (r"\bit is\b", ("it's",)),
        (r"\babout (?=(?:the|his|her|their|its|a|an) )", ("concerning ", "regarding ")),
        (r"(?<!the )\blast (week|month|year)\b", ("the previous \\1", "a \\1 ago")),
        (r"\bless than (?=\$?\d)", ("under ", "below ")),
        (r"\$(\d[\d.,]*) (million|billion)\b", ("\\1 \\2 dollars",)),
        (r"\bU\.S\.(?= [a-z])", ("US", "American")),
        (r"\b(?:Mr|Mrs|Ms)\. (?=[A-Z])", ("",)),
        (r"(?<=\d) percent\b", ("%", " per cent")),
        (r"\b(said|say|says|believe|believed|think|thought) that\b", ("\\1",)),
        (r"\bdid not\b", ("didn't",)),
        (r"\bdoes not\b", ("doesn't",)),
        (r"\bwould not\b", ("wouldn't",)),
        (r"\bcould not\b", ("couldn't",)),
    )
)


_ACCORDING_BACK = re.compile(
    r"^(?P<rest>[^\"\u201c\u201d]{20,}?), according to (?P<who>[^,\"\u201c\u201d]{3,80})\.$"
)
_ACCORDING_FRONT = re.compile(
    r"^According to (?P<who>[^,]{3,80}), (?P<rest>[^\"\u201c\u201d]{20,})\.$"
)
_COORD = re.compile(
    r"\b(?P<pre>the|of|for|with|their|his|her|its|our|by|from|on|in|about) (?P<a>[a-z]{4,}) and "
    r"(?P<b>[a-z]{4,})(?=[,.;]| (?:the|a|an|in|on|at|to|of|for|with|from|by|was|were|is|are|have|"
    r"had|has)\b)"
)
_POSSESSIVE = re.compile(r"\bthe ([a-z]{4,}) of ([A-Z][a-z]+(?: [A-Z][a-z]+)?)\b(?![ -][A-Z])")
_OPENERS: dict[str, tuple[str, ...]] = {
    "But ": ("However, ", "Yet "),
    "However, ": ("But ", "Still, "),
    "Meanwhile, ": ("At the same time, ", "Separately, "),
    "Also, ": ("In addition, ", "Additionally, "),
    "Still, ": ("Even so, ", "Nevertheless, "),
    "And ": ("Also, ", ""),
}


def _restructure(s: str, rng: random.Random, lex: _Lex) -> str:
    """Small structural rewrites: "according to" moved, pairs swapped, possessives, openers."""
    m = _ACCORDING_BACK.match(s)
    if m:
        s = f"According to {m['who']}, {_lower_first(m['rest'], lex)}."
    else:
        m = _ACCORDING_FRONT.match(s)
        if m:
            s = f"{_upper_first(m['rest'])}, according to {m['who']}."

    def coord(mm: re.Match[str]) -> str:
        a, b = mm["a"], mm["b"]
        if a in _STOPWORDS or b in _STOPWORDS or rng.random() < 0.3:
            return mm.group()
        return f"{mm['pre']} {b} and {a}"

    s = _COORD.sub(coord, s)
    if rng.random() < 0.7:
        s = _POSSESSIVE.sub(lambda mm: f"{mm.group(2)}'s {mm.group(1)}", s, count=1)
    for opener, alts in _OPENERS.items():
        if s.startswith(opener):
            s = _upper_first(rng.choice(alts) + s[len(opener) :])
            break
    return s


def _reorder(s: str, rng: random.Random, lex: _Lex) -> str:
    """Reorder clauses around "said" and leading/trailing subordinate clauses."""
    m = _QUOTE_BACK.match(s)
    if m:
        return f"{_upper_first(m['subj'])} said, {m['o']}{m['q']}.{m['c']}"
    m = _QUOTE_FRONT.match(s)
    if m and m["p"] == ".":
        return f"{m['o']}{m['q']},{m['c']} {_lower_first(m['subj'], lex)} said."
    m = _SAID_BACK.match(s)
    if m and not m["subj"].lower().startswith(("it ", "he ", "she ", "they ")):
        that = " that" if rng.random() < 0.5 else ""
        return f"{_upper_first(m['subj'])} said{that} {_lower_first(m['rest'], lex)}."
    m = _SAID_FRONT.match(s)
    if m and len(m["subj"].split()) <= 7 and not m["rest"].startswith(("on ", "in ", "at ")):
        return f"{_upper_first(m['rest'])}, {_lower_first(m['subj'], lex)} said."
    m = _LEAD_CLAUSE.match(s)
    if m:
        return f"{_upper_first(m['main'])} {m['conj'].lower()} {m['sub']}."
    m = _TAIL_CLAUSE.match(s)
    if m and rng.random() < 0.7:
        return f"{m['conj'].capitalize()} {m['sub']}, {_lower_first(m['main'], lex)}."
    return s


_TIME_TAIL = re.compile(
    r"^(?P<main>[^\"\u201c\u201d]{20,}?),? (?P<time>(?:on|by|until|since) (?:[A-Z][a-z]+day|"
    r"[A-Z][a-z]+ \d{1,2})|(?:last|this|next) (?:week|month|year|night|[A-Z][a-z]+)|"
    r"in (?:\d{4}|[A-Z][a-z]+ \d{4})|earlier this (?:week|month|year))\.$"
)
_TIME_HEAD = re.compile(
    r"^(?P<time>(?:On|By|Until|Since) (?:[A-Z][a-z]+day|[A-Z][a-z]+ \d{1,2})|"
    r"(?:Last|This|Next) (?:week|month|year|night)|In \d{4}), (?P<main>[^\"\u201c\u201d]{20,})\.$"
)
_AUX = re.compile(
    r"\b(is|are|was|were|has|have|had|will|would|could|can) (?!not\b|also\b)(?=[a-z])"
)


_DROPPABLE = re.compile(
    r" (?:also|just|still|already|actually|really|very|currently|recently|then|now|indeed|"
    r"certainly|clearly|apparently)\b(?=[ ,])"
)
_PASSIVE = re.compile(
    r"^(?P<x>[A-Z][^,\"\u201c\u201d]{2,60}?) (?P<aux>was|were) (?P<v>[a-z]+ed) by "
    r"(?P<y>(?:the |a |an )?[A-Za-z][\w'\u2019-]*(?: [A-Z][\w'\u2019-]*){0,3})"
    r"(?P<rest>[^\"\u201c\u201d]*)\.$"
)


def _force(s: str, rng: random.Random, lex: _Lex, step: int) -> str:
    """Further rewrites for a sentence that kept too many of its word 5-grams."""
    if step == 0:  # drop filler adverbs
        return _DROPPABLE.sub(lambda mm: "" if rng.random() < 0.8 else mm.group(), s)
    if step == 1:  # move a time phrase to the other end
        m = _TIME_TAIL.match(s)
        if m and not re.search(r"\bsaid\b", m["main"][-12:]):
            return f"{_upper_first(m['time'])}, {_lower_first(m['main'], lex)}."
        m = _TIME_HEAD.match(s)
        if m:
            return f"{_upper_first(m['main'])} {m['time'][0].lower()}{m['time'][1:]}."
        return s
    if step == 2:  # passive to active
        m = _PASSIVE.match(s)
        if m:
            return f"{_upper_first(m['y'])} {m['v']} {_lower_first(m['x'], lex)}{m['rest']}."
        return s
    if step == 3:  # numbers in words, "percent" spelled out
        t = re.sub(
            r"(?<![\d.,$/-])\b([1-9])\b(?![\d.,%/-])",
            lambda mm: _NUMBER_WORDS[int(mm.group(1)) - 1],
            s,
        )
        return re.sub(r"(?<=\d) ?percent\b", "%", t)
    if step == 4:  # drop an appositive or parenthetical
        return _PARENTHETICAL.sub("", s, count=1)
    if step == 5:  # "the X of the Y" -> "the Y's X"
        return _OF_THE.sub(lambda mm: f"the {mm.group(2)}'s {mm.group(1)}", s, count=2)
    if step == 6:  # an adverb after the first auxiliary
        return _AUX.sub(lambda mm: f"{mm.group(1)} {rng.choice(('also', 'now'))} ", s, 1)
    return _swap_words(s, rng, 1.0, lex)


_PARENTHETICAL = re.compile(
    r", (?:who|which|whose|where|a|an|the) [^,\"\u201c\u201d]{5,90},(?= [a-z])"
    r"| -- [^-\"\u201c\u201d]{5,90} --(?= )| \([^()]{3,60}\)"
)
_OF_THE = re.compile(r"\bthe ([a-z]{3,}) of the ([a-z]{3,})\b(?! [a-z]+ing\b)(?=[ ,.;])")
_FORCE_STEPS = 8
_SENTENCE_SURVIVAL = 0.4


def _split_long(s: str, rng: random.Random) -> list[str]:
    if s.count(" ") < 20:
        return [s]
    m = re.search(r", and (?=[a-z])|; |, but (?=[a-z])", s)
    if not m or m.start() < 30 or len(s) - m.end() < 30:
        return [s]
    head = s[: m.start()].rstrip(",;")
    head = head if head[-1:] in ".!?" else head + "."
    joiner = m.group()
    tail = s[m.end() :]
    if "but" in joiner:
        tail = rng.choice(("But ", "However, ", "Yet ")) + tail
    elif "and" in joiner:
        tail = rng.choice(("", "Also, ", "In addition, ")) + tail
    return [head, _upper_first(tail)]


def _expander(alts: tuple[str, ...], rng: random.Random) -> Callable[[re.Match[str]], str]:
    """A ``re.sub`` replacement choosing one of ``alts`` (which may use group references)."""

    def expand(m: re.Match[str]) -> str:
        return m.expand(rng.choice(alts))

    return expand


def _paraphrase_sentences(sentences: list[str], rng: random.Random, lex: _Lex) -> list[str]:
    out: list[str] = []
    for s in sentences:
        t = s
        for pat, alts in _PHRASES:
            if rng.random() < 0.8:
                t = pat.sub(_expander(alts, rng), t)
        if rng.random() < 0.85:
            t = _reorder(t, rng, lex)
        t = _restructure(t, rng, lex)
        t = _swap_words(t, rng, 0.95, lex)
        step = 0
        while step < _FORCE_STEPS and ngram_containment(s, t, 5) > _SENTENCE_SURVIVAL:
            t = _force(t, rng, lex, step)
            step += 1
        out.extend(_split_long(t, rng) if rng.random() < 0.7 else [t])
    # join short neighbours
    joined: list[str] = []
    for t in out:
        prev = joined[-1] if joined else ""
        if (
            prev
            and prev.endswith(".")
            and prev.count(" ") < 14
            and t.count(" ") < 14
            and not re.search(r"[\"\u201c\u201d]", prev + t)
            and rng.random() < 0.6
        ):
            joined[-1] = prev[:-1] + rng.choice((", and ", "; ", ", while ")) + _lower_first(t, lex)
        else:
            joined.append(t)
    return joined


_TRAILING_PHRASE = re.compile(
    r", (?:[a-z]+ing|who|which|where|while|as|after|before) [^,]{8,}(?=[.!?]$)"
)
_DOC_SURVIVAL = 0.42


def _paraphrase_body(paras: list[list[str]], rng: random.Random, lex: _Lex) -> list[list[str]]:
    """Paraphrase paragraphs; condense the most-copied sentences until the body keeps at
    most ``_DOC_SURVIVAL`` of the original's word 5-grams."""
    source = " ".join(s for p in paras for s in p)
    src_grams = word_ngrams(source, 5)
    new = [_paraphrase_sentences(p, rng, lex) for p in paras]
    if not src_grams:
        return new

    def containment() -> float:
        return len(src_grams & word_ngrams(" ".join(s for p in new for s in p), 5)) / len(src_grams)

    n_sent = sum(len(p) for p in new)
    budget = max(1, n_sent // 4)  # sentences that may be dropped
    done: set[tuple[int, int]] = {(0, 0)}  # the lead is kept as it is
    for _ in range(2 * n_sent):
        if containment() <= _DOC_SURVIVAL:
            break
        best, where = 0.0, (-1, -1)
        for pi, p in enumerate(new):
            for si, t in enumerate(p):
                g = word_ngrams(t, 5)
                share = len(g & src_grams) / len(g) if g else 0.0
                if (pi, si) not in done and share > best:
                    best, where = share, (pi, si)
        if where[0] < 0:
            break
        pi, si = where
        t = new[pi][si]
        shorter = _TRAILING_PHRASE.sub("", t, count=1)
        if shorter == t:
            shorter = _PARENTHETICAL.sub("", t, count=1)
        if shorter != t:
            new[pi][si] = shorter
        elif budget > 0:
            new[pi][si] = ""
            budget -= 1
            done.add((pi, si))
        else:
            done.add((pi, si))
    new = [[t for t in p if t] for p in new]
    return [p for p in new if p]


def _copy_edit_sentences(sentences: list[str], rng: random.Random, lex: _Lex) -> list[str]:
    to_uk = rng.random() < 0.5
    spell = SPELLING if to_uk else _UK_TO_US
    digits_to_words = rng.random() < 0.5
    shift = rng.randint(1, 6)
    day_map = {d: _DAYS[(i + shift) % 7] for i, d in enumerate(_DAYS)}
    percent = rng.choice(("per cent", "percent", "%"))
    percent_repl = "%" if percent == "%" else " " + percent

    def word(m: re.Match[str]) -> str:
        w = m.group()
        low = w.lower()
        if low in spell:
            return _match_case(spell[low], w)
        if w in day_map:
            return day_map[w]
        if digits_to_words and w.isdigit() and len(w) == 1 and w != "0":
            return _NUMBER_WORDS[int(w) - 1]
        if not digits_to_words and low in _NUMBER_WORDS and w.islower():
            return str(_NUMBER_WORDS.index(low) + 1)
        return w

    out = []
    for s in sentences:
        t = re.sub(r"(?<![\d.,$])\b[A-Za-z]+\b|(?<![\d.,$])\b\d\b(?![\d.,%])", word, s)
        t = re.sub(r"\b(Mr|Mrs|Dr)\.", r"\1", t) if to_uk else t
        t = re.sub(r"(?<=\d) ?(?:percent|per cent|%)", percent_repl, t)
        out.append(t)
    # a few words changed
    swaps = rng.randint(2, 5)
    order = list(range(len(out)))
    rng.shuffle(order)
    for i in order:
        if swaps <= 0:
            break
        t = _swap_words(out[i], rng, 0.3, lex)
        if t != out[i]:
            out[i] = t
            swaps -= 1
    return out


# --------------------------------------------------------------------------------------------
# Article model
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GeneratedArticle:
    """One generated article.

    Attributes:
        id: Article id (also the file stem).
        text: The article text.
        title: Headline.
        published: ISO 8601 UTC timestamp.
        source: Outlet or agency name.
        url: A made-up URL on the outlet's ``.example`` domain.
        role: ``"original"``, ``"copy"`` or ``"negative"``.
        kind: ``"original"``, an edit kind (``EDIT_KINDS``) or a negative kind.
        families: Family ids the article belongs to (two for ``merged``).
        topic: Topic group id (``t03``) for wire-derived articles, else None.
        fresh: Whether fresh (model-written) text was used: unrelated or
            ``same_topic`` text, or a copy's local paragraphs, once the pool
            is used up.
    """

    id: str
    text: str
    title: str
    published: str
    source: str
    url: str
    role: str
    kind: str
    families: tuple[str, ...] = ()
    topic: str | None = None
    fresh: bool = False

    def record(self) -> dict[str, str]:
        """The ``articles.jsonl`` record."""
        return {
            "id": self.id,
            "text": self.text,
            "title": self.title,
            "published": self.published,
            "source": self.source,
            "url": self.url,
        }


@dataclass
class _Body:
    """A wire story: paragraphs of sentences plus its credit."""

    paras: list[list[str]]
    dateline: str = ""
    credit: str = ""

    def paragraphs(self, dateline: bool = True) -> list[str]:
        out = [" ".join(p) for p in self.paras if p]
        if dateline and self.dateline and out:
            out[0] = self.dateline + out[0]
        return out

    def text(self, dateline: bool = True, credit: bool = True) -> str:
        paras = self.paragraphs(dateline)
        if credit and self.credit:
            paras.append(self.credit)
        return _PARA_SEP.join(paras)


@dataclass
class _Story:
    group: int  # topic group, -1 for web text
    ids: np.ndarray  # pool sentence ids (empty for fresh text)
    wire: bool
    fresh: int = 0  # characters of fresh (model-written) text instead of pool text


@dataclass
class _Family:
    index: int
    original: int  # article index
    group: int
    story: int
    ts: int
    agency: int
    credit: str  # "dateline", "end", "both", "none"
    members: list[int] = field(default_factory=list)
    kinds: dict[int, str] = field(default_factory=dict)
    extra: int = 0
    example: bool = False
    size: int = 0


@dataclass
class _Spec:
    role: str
    kind: str
    families: tuple[int, ...] = ()
    story: int = -1  # originals and negatives
    local: int = -1  # local paragraphs (web story) for local_intro/local_outro
    ts: int = 0
    outlet: int = -1  # index into _OUTLETS, -1 for an agency (see family)
    group: int = -1
    example: str = ""  # example file name


def _fmt_time(ts: int) -> str:
    return (_BASE_TIME + timedelta(seconds=ts)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _slug(title: str) -> str:
    words = re.findall(r"[a-z0-9]+", title.lower())[:8]
    return "-".join(words) or "story"


def _name(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST_NAMES)} {rng.choice(_SURNAMES)}"


# --------------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------------


class CorpusGenerator:
    """Plans a corpus up front (cheap) and renders its articles on demand.

    Args:
        n_articles: Number of articles.
        seed: Random seed; the same arguments give the same corpus.
        pan_dir: The PAN 2013 training corpus directory.
        example_dir: The alaska-summit example corpus (None to leave it out).
        family_share: Share of articles that are members of families.
        same_topic_share: Share of the negatives that are ``same_topic``.
        wire_limit: Use only the first ``wire_limit`` DUC documents (for tests).
        web_limit: Use only the first ``web_limit`` web documents (for tests).

    Raises:
        ValueError: If the arguments are out of range.
        FileNotFoundError: If ``pan_dir`` is not a PAN 2013 training corpus.
    """

    def __init__(
        self,
        n_articles: int,
        *,
        seed: int = 0,
        pan_dir: Path = DEFAULT_PAN_DIR,
        example_dir: Path | None = DEFAULT_EXAMPLE_DIR,
        family_share: float = 0.4,
        same_topic_share: float = 0.3,
        wire_limit: int | None = None,
        web_limit: int | None = None,
    ) -> None:
        if n_articles < 0:
            raise ValueError("n_articles must be >= 0")
        if not 0.0 <= family_share <= 1.0 or not 0.0 <= same_topic_share <= 1.0:
            raise ValueError("shares must be in [0, 1]")
        self.n = n_articles
        self.seed = seed
        self.family_share = family_share
        self.same_topic_share = same_topic_share
        self.pool = _load_pool(
            Path(pan_dir).resolve(),
            Path(example_dir).resolve() if example_dir is not None else None,
            wire_limit,
            web_limit,
        )
        self.stories: list[_Story] = []
        self.specs: list[_Spec] = []
        self.families: list[_Family] = []
        self._cache: OrderedDict[int, _Body] = OrderedDict()
        self._fresh_cache: OrderedDict[int, list[str]] = OrderedDict()
        self._plan()
        width = max(6, len(str(max(self.n - 1, 0))))
        perm = np.random.default_rng(seed).permutation(self.n)
        self.ids = [f"a{int(p):0{width}d}" for p in perm]
        self.by_id = np.argsort(perm, kind="stable")
        fam_width = max(4, len(str(len(self.families))))
        self.family_ids = [f"f{i + 1:0{fam_width}d}" for i in range(len(self.families))]

    # ---------------------------------------------------------------- planning

    def _new_story(self, group: int, ids: np.ndarray | None, wire: bool, fresh: int = 0) -> int:
        if ids is None:
            ids = np.zeros(0, dtype=np.int32)
        self.stories.append(_Story(group, ids, wire, fresh))
        return len(self.stories) - 1

    def _web_story(self, web: _WebStream, chars: int) -> int:
        """Unused web text worth ``chars`` characters, else fresh text."""
        ids = web.take(chars)
        return self._new_story(-1, ids, False, 0 if ids is not None else chars)

    def _plan(self) -> None:
        n, seed, pool = self.n, self.seed, self.pool
        rng = _rng(seed, "plan")
        web = _WebStream(pool, seed)
        wire = _WireStreams(pool, seed)
        use_example = bool(pool.example) and n >= _EXAMPLE_MIN_ARTICLES
        n_fam = round(n * self.family_share)
        if n_fam == 1:
            n_fam = 0
        n_neg = n - n_fam
        n_same = round(n_neg * self.same_topic_share)

        # the embedded example: one family of two and three same-topic negatives
        if use_example and n_fam >= 2 and n_same >= 3:
            t0 = rng.randint(0, _TIME_SPAN - 86400)
            fam = _Family(len(self.families), -1, -1, -1, t0, 1, "end", example=True, size=2)
            self.families.append(fam)
            for name, _ in pool.example:
                prefix = name[:3]
                outlet = rng.randrange(len(_OUTLETS))
                if prefix == "001":
                    fam.original = len(self.specs)
                    spec = _Spec("original", "original", (fam.index,), ts=t0, example=name)
                elif prefix == "004":
                    ts = t0 + rng.randint(1800, 6 * 3600)
                    spec = _Spec("copy", "paraphrase", (fam.index,), ts=ts, outlet=outlet)
                else:
                    ts = t0 + rng.randint(-3 * 3600, 8 * 3600)
                    spec = _Spec("negative", "same_topic", (fam.index,), ts=ts, outlet=outlet)
                spec.example = name
                if spec.role != "negative":
                    fam.members.append(len(self.specs))
                    fam.kinds[len(self.specs)] = spec.kind
                self.specs.append(spec)
            n_fam -= 2
            n_same -= 3
            n_neg -= 3

        # family sizes
        sizes: list[int] = []
        rem = n_fam
        while rem > 0:
            if rem == 1:
                j = next((k for k, s in enumerate(sizes) if s < 8), None)
                if j is None:
                    n_neg += 1
                else:
                    sizes[j] += 1
                rem = 0
            elif rem <= 8:
                sizes.append(rem)
                rem = 0
            else:
                s = rng.randint(2, min(8, rem - 2))
                sizes.append(s)
                rem -= s
        first_new = len(self.families)
        self.families_dropped = 0
        self.family_docs: dict[int, int] = {}  # family index -> wire document of its original
        for k, s in enumerate(sizes):
            # originals: unused wire slots, then unused web text; when the pool is used up,
            # no more families (their articles become unrelated negatives)
            g = wire.pick_group(rng)
            if g >= 0:
                got = wire.take(g)
                assert got is not None
                story = self._new_story(g, got[0], True)
                self.family_docs[len(self.families)] = got[1]
            else:
                ids = web.take(rng.randint(2300, 3600))
                if ids is None:
                    self.families_dropped = len(sizes) - k
                    break
                story = self._new_story(-1, ids, True)
            agency = rng.choices(range(len(_AGENCIES)), weights=[a[3] for a in _AGENCIES])[0]
            credit = rng.choices(("dateline", "end", "both", "none"), (0.4, 0.2, 0.15, 0.25))[0]
            fam = _Family(
                len(self.families),
                len(self.specs),
                g,
                story,
                rng.randint(0, _TIME_SPAN - 4 * 86400),
                agency,
                credit,
                size=s,
            )
            self.families.append(fam)
            spec = _Spec("original", "original", (fam.index,), story, ts=fam.ts, group=g)
            self.specs.append(spec)
            fam.members.append(fam.original)
            fam.kinds[fam.original] = "original"

        # same-topic negatives, tied to families of groups with at least two documents
        # (groups of two or more documents and enough sentences to leave some out)
        wire_fams = [f for f in self.families[first_new:] if f.group >= 0]
        anchors = [
            f
            for f in wire_fams
            if len(pool.groups[f.group]) >= 2
            and sum(len(pool.wire_doc_sents[d]) for d in pool.groups[f.group]) >= 75
        ] or wire_fams
        rng.shuffle(anchors)
        if not anchors:
            n_same = 0
        for k in range(n_same):
            # an unused slot of the family's topic group (preferably of another document),
            # else fresh text written with the group's vocabulary
            fam = anchors[k % len(anchors)]
            got = wire.take(fam.group, self.family_docs.get(fam.index, -1))
            if got is not None:
                story = self._new_story(fam.group, got[0], True)
            else:
                story = self._new_story(fam.group, None, True, rng.randint(2300, 3600))
            ts = min(max(fam.ts + rng.randint(-2 * 86400, 2 * 86400), 0), _TIME_SPAN)
            self.specs.append(
                _Spec(
                    "negative",
                    "same_topic",
                    (fam.index,),
                    story,
                    ts=ts,
                    outlet=rng.randrange(len(_OUTLETS)),
                    group=fam.group,
                )
            )

        # copies, with kinds from a shuffled round-robin
        kind_queue: list[str] = []

        def next_kind() -> str:
            if not kind_queue:
                kinds = list(EDIT_KINDS)
                rng.shuffle(kinds)
                kind_queue.extend(kinds)
            return kind_queue.pop()

        new_fams = self.families[first_new:]
        for fam in new_fams:
            used_outlets: set[int] = set()
            for _ in range(fam.size - 1):
                kind = next_kind()
                partner: _Family | None = None
                if kind == "merged":
                    partner = self._partner(fam, new_fams, rng)
                    if partner is None:
                        kind = next_kind() if kind_queue else "verbatim"
                        if kind == "merged":
                            kind = "verbatim"
                delay = int(math.exp(rng.uniform(math.log(60), math.log(3 * 86400))))
                ts = fam.ts + delay
                fams: tuple[int, ...] = (fam.index,)
                if partner is not None:
                    fams = (fam.index, partner.index)
                    ts = max(fam.ts, partner.ts) + delay
                outlet = rng.randrange(len(_OUTLETS))
                for _try in range(5):
                    if outlet not in used_outlets:
                        break
                    outlet = rng.randrange(len(_OUTLETS))
                used_outlets.add(outlet)
                local = -1
                if kind in ("local_intro", "local_outro"):
                    local = self._web_story(web, rng.randint(200, 600))
                idx = len(self.specs)
                self.specs.append(_Spec("copy", kind, fams, ts=ts, outlet=outlet, local=local))
                for f in fams:
                    self.families[f].members.append(idx)
                    self.families[f].kinds[idx] = kind
                if partner is not None:
                    partner.extra += 1

        # unrelated negatives
        while len(self.specs) < n:
            story = self._web_story(web, rng.randint(2000, 4000))
            self.specs.append(
                _Spec(
                    "negative",
                    "unrelated",
                    (),
                    story,
                    ts=rng.randint(0, _TIME_SPAN),
                    outlet=rng.randrange(len(_OUTLETS)),
                )
            )
        self.web_left = int(len(web.order) - web.pos)

    def _partner(self, fam: _Family, fams: list[_Family], rng: random.Random) -> _Family | None:
        """Another family with room for one more member, preferably of another topic."""
        if len(fams) < 2:
            return None
        best: _Family | None = None
        for _ in range(30):
            cand = fams[rng.randrange(len(fams))]
            if cand is fam or cand.size + cand.extra >= 8:
                continue
            if cand.group != fam.group:
                return cand
            best = best or cand
        return best

    # ---------------------------------------------------------------- rendering

    def _sentences(self, story: _Story, key: int) -> list[str]:
        if not story.fresh:
            return [self.pool.sentences[int(i)] for i in story.ids]
        sents = self._fresh_cache.get(key)
        if sents is None:
            if self.pool.fresh is None:
                self.pool.fresh = _FreshText(self.pool)
            model: _FreshText = self.pool.fresh
            sents = model.text(_rng(self.seed, "fresh", key), story.fresh, story.group)
            self._fresh_cache[key] = sents
            if len(self._fresh_cache) > 64:
                self._fresh_cache.popitem(last=False)
        return sents

    def _paragraphs(self, sents: list[str], rng: random.Random, wire: bool) -> list[list[str]]:
        paras: list[list[str]] = []
        i = 0
        sizes = (1, 2, 2, 3) if wire else (2, 3, 3, 4, 5)
        while i < len(sents):
            k = (1 if rng.random() < 0.8 else 2) if (wire and not paras) else rng.choice(sizes)
            paras.append(sents[i : i + k])
            i += k
        if len(paras) < 3 and len(sents) >= 3:
            paras = [[s] for s in sents]
        return paras

    def _original_body(self, f: int) -> _Body:
        body = self._cache.get(f)
        if body is not None:
            self._cache.move_to_end(f)
            return body
        fam = self.families[f]
        if fam.example:
            text = dict(self.pool.example)[self.specs[fam.original].example]
            paras = [split_sentences(p) for p in split_paragraphs(text)]
            credit = ""
            if paras and len(paras[-1]) == 1 and _END_CREDIT_RE.match(paras[-1][0]):
                credit = paras.pop()[0]
            body = _Body(paras, "", credit)
        else:
            story = self.stories[fam.story]
            rng = _rng(self.seed, "original", f)
            paras = self._paragraphs(self._sentences(story, fam.story), rng, True)
            tag = _AGENCIES[fam.agency][0]
            dateline = credit = ""
            if fam.credit in ("dateline", "both"):
                dash = "\u2014" if tag == "AP" else "-"
                lead = " ".join(" ".join(p) for p in paras[:2])
                cities = [c for c in _DATELINE_CITIES if c.title() in lead]
                city = min(cities, key=lambda c: lead.index(c.title())) if cities else ""
                dateline = f"{city or rng.choice(_DATELINE_CITIES)} ({tag}) {dash} "
            if fam.credit in ("end", "both"):
                if tag == "AP":
                    credit = (
                        f"Associated Press writer {_name(rng)} in "
                        f"{rng.choice(_DATELINE_CITIES).title()} contributed to this report."
                    )
                elif tag == "Reuters":
                    credit = f"Reporting by {_name(rng)}; Editing by {_name(rng)} (Reuters)"
                else:
                    credit = f"Reporting by {_name(rng)} ({tag})"
            body = _Body(paras, dateline, credit)
        self._cache[f] = body
        if len(self._cache) > 20000:
            self._cache.popitem(last=False)
        return body

    def _local_paras(self, story: int, rng: random.Random) -> list[str]:
        sents = self._sentences(self.stories[story], story)
        if len(sents) <= 2 or rng.random() < 0.5:
            return [" ".join(sents)]
        cut = rng.randint(1, len(sents) - 1)
        return [" ".join(sents[:cut]), " ".join(sents[cut:])]

    def _title(self, c: int) -> str:
        spec = self.specs[c]
        if spec.role == "negative" or spec.example:
            sents = self._negative_sentences(c)
            return _headline(sents[0]) if sents else "News"
        fam = self.families[spec.families[0]]
        body = self._original_body(fam.index)
        first = body.paras[0][0] if body.paras and body.paras[0] else "News"
        title = _headline(first)
        if spec.role == "original":
            return title
        rng = _rng(self.seed, "title", c)
        if spec.kind == "paraphrase":
            return _swap_words(title, rng, 0.9, self.pool.lex)
        roll = rng.random()
        if roll < 0.5:
            return title
        if roll < 0.8:
            return _swap_words(title, rng, 0.6, self.pool.lex)
        words = title.split()
        return " ".join(words[: max(3, len(words) - 2)])

    def _negative_sentences(self, c: int) -> list[str]:
        spec = self.specs[c]
        if spec.example:
            return split_sentences(dict(self.pool.example)[spec.example])
        return self._sentences(self.stories[spec.story], spec.story)

    def _render_copy(self, c: int, spec: _Spec, rng: random.Random) -> str:
        fam = self.families[spec.families[0]]
        orig = self._original_body(fam.index)
        keep_dl = rng.random() < 0.5
        keep_cr = rng.random() < 0.5
        kind = spec.kind
        lex = self.pool.lex
        dateline = orig.dateline if keep_dl else ""
        credit = [orig.credit] if (keep_cr and orig.credit) else []
        paras = [list(p) for p in orig.paras if p]

        def join(ps: list[list[str]]) -> list[str]:
            out = [" ".join(p) for p in ps if p]
            if dateline and out:
                out[0] = dateline + out[0]
            return out

        if kind == "verbatim":
            blocks = join(paras) + credit
        elif kind == "trimmed":
            kept = self._trim(paras, rng.uniform(0.4, 0.8))
            blocks = join(kept) + credit
        elif kind in ("local_intro", "local_outro"):
            local = self._local_paras(spec.local, rng)
            body = join(paras) + credit
            blocks = local + body if kind == "local_intro" else body + local
        elif kind == "boilerplate":
            outlet_name = _OUTLETS[spec.outlet][0]
            ob = _rng(self.seed, "outlet", spec.outlet)  # per-outlet template choices
            date = _BASE_TIME + timedelta(seconds=spec.ts)
            top = [self._title(c)]
            top.append(
                ob.choice(
                    (
                        f"By {_name(rng)}",
                        f"By {_name(rng)}, {outlet_name}",
                        "Staff and wire reports",
                        f"{outlet_name} staff",
                    )
                )
            )
            if ob.random() < 0.6:
                top.append(f"Published {date.strftime('%B')} {date.day}, {date.year}")
            body = join(paras)
            inserts = rng.randint(1, 2)
            for _ in range(inserts):
                pos = rng.randint(min(2, len(body)), len(body))
                line = "Advertisement"
                if rng.random() < 0.75:
                    line = rng.choice(("Related: ", "READ MORE: ")) + self._fake_headline(rng)
                body.insert(pos, line)
            bottom = [ob.choice(("Share this article", "Share this:", "Share on Facebook"))]
            if ob.random() < 0.5:
                bottom.append(ob.choice(("Sign up for our newsletter", "Get the daily briefing")))
            bottom.append(f"\u00a9 {date.year} {outlet_name}")
            blocks = top + body + credit + bottom
        elif kind == "sentences_dropped":
            flat = [(pi, s) for pi, p in enumerate(paras) for s in p]
            k = max(1, round(rng.uniform(0.15, 0.35) * (len(flat) - 1)))
            k = min(k, len(flat) - 2)
            drop = set(rng.sample(range(1, len(flat)), k)) if k > 0 else set()
            start = min(drop) if drop else 0
            if drop and start == len(flat) - len(drop) and start > 1:  # only a tail cut so far
                drop.discard(start)
                drop.add(rng.randrange(1, start))
            new: list[list[str]] = [[] for _ in paras]
            for j, (pi, s) in enumerate(flat):
                if j not in drop:
                    new[pi].append(s)
            blocks = join([p for p in new if p]) + credit
        elif kind == "paragraphs_moved":
            head, rest = paras[:1], paras[1:]
            order = list(range(len(rest)))
            for _ in range(rng.randint(1, 3)):
                i = order.pop(rng.randrange(len(order)))
                order.insert(rng.randrange(len(order) + 1), i)
            if order == sorted(order) and len(order) >= 2:
                order[0], order[-1] = order[-1], order[0]
            blocks = join(head + [rest[i] for i in order]) + credit
        elif kind == "copy_edits":
            sents = [s for p in paras for s in p]
            edited = _copy_edit_sentences(sents, rng, lex)
            new, i = [], 0
            for p in paras:
                new.append(edited[i : i + len(p)])
                i += len(p)
            blocks = join(new) + credit
        elif kind == "merged":
            other = self._original_body(spec.families[1])
            a_part = self._prefix(paras, rng.uniform(0.5, 0.8))
            b_part = self._prefix([list(p) for p in other.paras if p], rng.uniform(0.3, 0.6))
            blocks = join(a_part) + [" ".join(p) for p in b_part]
        elif kind == "paraphrase":
            if self.specs[c].example:
                return dict(self.pool.example)[self.specs[c].example]
            new = _paraphrase_body(paras, rng, lex)
            blocks = join(new) + credit
        else:  # pragma: no cover - kinds come from EDIT_KINDS
            raise ValueError(kind)
        return _PARA_SEP.join(blocks)

    @staticmethod
    def _trim(paras: list[list[str]], goal: float) -> list[list[str]]:
        """Cut from the bottom at the paragraph (else sentence) boundary nearest to ``goal``
        (a share of the characters), keeping 40-80% when the text allows it."""

        def size(ps: list[list[str]]) -> int:
            return len(_PARA_SEP.join(" ".join(p) for p in ps))

        total = size(paras)
        cands: list[tuple[float, bool, list[list[str]]]] = []
        for pi, p in enumerate(paras):
            for si in range(len(p)):
                kept = [*paras[:pi], p[: si + 1]]
                share = size(kept) / total
                if share < 1.0:
                    cands.append((share, si == len(p) - 1, kept))
        if not cands:
            return paras
        inside = [c for c in cands if 0.4 <= c[0] <= 0.8] or cands
        para_ends = [c for c in inside if c[1] and abs(c[0] - goal) <= 0.1]
        pool = para_ends or inside
        return min(pool, key=lambda c: abs(c[0] - goal))[2]

    @staticmethod
    def _prefix(paras: list[list[str]], share: float) -> list[list[str]]:
        total = sum(len(" ".join(p)) for p in paras)
        out: list[list[str]] = []
        chars = 0
        for p in paras:
            if out and len(out) >= 2 and chars >= share * total:
                break
            out.append(p)
            chars += len(" ".join(p))
        return out

    def _fake_headline(self, rng: random.Random) -> str:
        w = _HEADLINE_WORDS
        return (
            f"{rng.choice(w['noun']).capitalize()} {rng.choice(w['verb'])} "
            f"{rng.choice(w['adj'])} {rng.choice(w['noun'])} {rng.choice(w['noun'])}"
        )

    def article(self, c: int) -> GeneratedArticle:
        """Render the article planned at index ``c`` (creation order, not id order).

        Args:
            c: Plan index.

        Returns:
            The article.
        """
        spec = self.specs[c]
        rng = _rng(self.seed, "article", c)
        topic = None
        fresh = False
        if spec.role == "original":
            fam = self.families[spec.families[0]]
            text = self._original_body(fam.index).text()
            agency = _AGENCIES[fam.agency]
            source, domain = agency[1], agency[2]
        elif spec.role == "copy":
            text = self._render_copy(c, spec, rng)
            source, domain = _OUTLETS[spec.outlet]
            fresh = spec.local >= 0 and self.stories[spec.local].fresh > 0
        elif spec.example:
            text = dict(self.pool.example)[spec.example]
            source, domain = _OUTLETS[spec.outlet]
        else:
            story = self.stories[spec.story]
            fresh = story.fresh > 0
            sents = self._negative_sentences(c)
            paras = self._paragraphs(sents, rng, story.wire)
            body = _Body(paras)
            if spec.kind == "same_topic" and rng.random() < 0.3:
                tag = rng.choice(_AGENCY_TAGS)
                body.dateline = f"{rng.choice(_DATELINE_CITIES)} ({tag}) - "
            text = body.text()
            source, domain = _OUTLETS[spec.outlet]
        if spec.families:
            topic = self._topic(self.families[spec.families[0]])
        title = self._title(c)
        date = _BASE_TIME + timedelta(seconds=spec.ts)
        url = f"https://www.{domain}/{date:%Y/%m/%d}/{_slug(title)}-{rng.getrandbits(32):08x}"
        return GeneratedArticle(
            id=self.ids[c],
            text=text,
            title=title,
            published=_fmt_time(spec.ts),
            source=source,
            url=url,
            role=spec.role,
            kind=spec.kind,
            families=tuple(self.family_ids[f] for f in spec.families if spec.role != "negative"),
            topic=topic,
            fresh=fresh,
        )

    @staticmethod
    def _topic(fam: _Family) -> str | None:
        if fam.example:
            return "alaska-summit"
        return f"t{fam.group + 1:02d}" if fam.group >= 0 else None

    def articles(self) -> Iterator[GeneratedArticle]:
        """Yield all articles in id order, rendering each on the fly."""
        for c in self.by_id:
            yield self.article(int(c))

    # ---------------------------------------------------------------- truth

    def truth(self) -> dict[str, Any]:
        """The ground truth of the planned corpus (see the module docstring)."""
        families = []
        for fam in self.families:
            members = sorted(fam.members, key=lambda m: (self.specs[m].ts, self.ids[m]))
            families.append(
                {
                    "family": self.family_ids[fam.index],
                    "original": self.ids[fam.original],
                    "members": [self.ids[m] for m in members],
                    "kinds": {self.ids[m]: fam.kinds[m] for m in members},
                    "topic": self._topic(fam),
                    "agency": _AGENCIES[fam.agency][1],
                    "origin": "example" if fam.example else "generated",
                }
            )
        negatives = []
        for c, spec in enumerate(self.specs):
            if spec.role != "negative":
                continue
            rec: dict[str, object] = {"id": self.ids[c], "kind": spec.kind}
            if spec.kind == "same_topic":
                fam = self.families[spec.families[0]]
                rec["family"] = self.family_ids[fam.index]
                rec["topic"] = self._topic(fam)
            negatives.append(rec)
        negatives.sort(key=lambda r: str(r["id"]))
        kind_counts = Counter(s.kind for s in self.specs)
        return {
            "generator": "benchmarks.generate",
            "version": GENERATOR_VERSION,
            "seed": self.seed,
            "n_articles": self.n,
            "params": {
                "family_share": self.family_share,
                "same_topic_share": self.same_topic_share,
            },
            "edit_kinds": list(EDIT_KINDS),
            "negative_kinds": list(NEGATIVE_KINDS),
            "counts": {k: kind_counts[k] for k in ("original", *EDIT_KINDS, *NEGATIVE_KINDS)},
            "families": families,
            "negatives": negatives,
            "topics": {
                f"t{g + 1:02d}": [self.pool.wire_docs[d] for d in members]
                for g, members in enumerate(self.pool.groups)
            },
            "pool": {
                "sentences": len(self.pool.sentences),
                "wire_docs": len(self.pool.wire_docs),
                "web_docs": len(self.pool.web_doc_sents),
                "wire_slots": sum(len(s) for s in self.pool.slots),
                "web_sentences_left": self.web_left,
                "wire_families": sum(f.group >= 0 for f in self.families),
                "web_families": sum(f.group < 0 and not f.example for f in self.families),
                "families_dropped": self.families_dropped,
                "fresh_stories": sum(s.fresh > 0 for s in self.stories),
                "stories": len(self.stories),
            },
        }


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def generate(
    n_articles: int,
    *,
    seed: int = 0,
    pan_dir: Path = DEFAULT_PAN_DIR,
    example_dir: Path | None = DEFAULT_EXAMPLE_DIR,
    family_share: float = 0.4,
    same_topic_share: float = 0.3,
) -> Iterator[GeneratedArticle]:
    """Stream a synthetic syndication corpus, in id order.

    Args:
        n_articles: Number of articles.
        seed: Random seed; the same arguments give the same articles.
        pan_dir: The PAN 2013 training corpus directory.
        example_dir: The alaska-summit example corpus (None to leave it out).
        family_share: Share of articles that are members of families.
        same_topic_share: Share of the negatives that are ``same_topic``.

    Yields:
        ``GeneratedArticle`` objects.
    """
    gen = CorpusGenerator(
        n_articles,
        seed=seed,
        pan_dir=pan_dir,
        example_dir=example_dir,
        family_share=family_share,
        same_topic_share=same_topic_share,
    )
    yield from gen.articles()


def write_corpus(
    out_dir: Path | str,
    n_articles: int,
    seed: int = 0,
    *,
    pan_dir: Path = DEFAULT_PAN_DIR,
    example_dir: Path | None = DEFAULT_EXAMPLE_DIR,
    family_share: float = 0.4,
    same_topic_share: float = 0.3,
    overwrite: bool = False,
    generator: CorpusGenerator | None = None,
) -> dict[str, Any]:
    """Generate a corpus and write ``articles/``, ``articles.jsonl`` and ``truth.json``.

    Args:
        out_dir: Output directory (created if missing).
        n_articles: Number of articles.
        seed: Random seed.
        pan_dir: The PAN 2013 training corpus directory.
        example_dir: The alaska-summit example corpus (None to leave it out).
        family_share: Share of articles that are members of families.
        same_topic_share: Share of the negatives that are ``same_topic``.
        overwrite: Remove ``*.txt`` files already in ``out_dir/articles`` first.
        generator: A prepared ``CorpusGenerator`` (then the other generation
            arguments are ignored).

    Returns:
        The truth, as written to ``truth.json``.

    Raises:
        FileExistsError: If ``out_dir/articles`` holds files and ``overwrite`` is false.
    """
    out = Path(out_dir)
    art_dir = out / "articles"
    art_dir.mkdir(parents=True, exist_ok=True)
    old = sorted(art_dir.glob("*.txt"))
    if old:
        if not overwrite:
            raise FileExistsError(f"{art_dir} is not empty (use overwrite=True / --force)")
        for p in old:
            p.unlink()
    gen = generator or CorpusGenerator(
        n_articles,
        seed=seed,
        pan_dir=pan_dir,
        example_dir=example_dir,
        family_share=family_share,
        same_topic_share=same_topic_share,
    )
    with (out / "articles.jsonl").open("w", encoding="utf-8", newline="\n") as jf:
        for art in gen.articles():
            (art_dir / f"{art.id}.txt").write_bytes(art.text.encode("utf-8"))
            jf.write(json.dumps(art.record(), ensure_ascii=False) + "\n")
    truth = gen.truth()
    (out / "truth.json").write_text(
        json.dumps(truth, indent=1, ensure_ascii=False) + "\n", encoding="utf-8", newline="\n"
    )
    return truth


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m benchmarks.generate OUT_DIR --n 1000 --seed 0``.

    Args:
        argv: Arguments (default ``sys.argv[1:]``).

    Returns:
        The exit status.
    """
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.generate",
        description="Generate a synthetic wire-copy syndication corpus with known truth.",
    )
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--n", type=int, default=1000, help="number of articles (default 1000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--family-share", type=float, default=0.4)
    ap.add_argument("--same-topic-share", type=float, default=0.3)
    ap.add_argument("--pan-dir", type=Path, default=DEFAULT_PAN_DIR)
    ap.add_argument("--example-dir", type=Path, default=DEFAULT_EXAMPLE_DIR)
    ap.add_argument("--no-example", action="store_true", help="leave the alaska-summit out")
    ap.add_argument("--force", action="store_true", help="overwrite an existing corpus")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    try:
        truth = write_corpus(
            args.out_dir,
            args.n,
            args.seed,
            pan_dir=args.pan_dir,
            example_dir=None if args.no_example else args.example_dir,
            family_share=args.family_share,
            same_topic_share=args.same_topic_share,
            overwrite=args.force,
        )
    except (FileNotFoundError, FileExistsError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    fams = truth["families"]
    negs = truth["negatives"]
    assert isinstance(fams, list) and isinstance(negs, list)
    print(
        f"wrote {args.n} articles ({len(fams)} families, {len(negs)} negatives) to "
        f"{args.out_dir} in {time.perf_counter() - t0:.1f}s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
