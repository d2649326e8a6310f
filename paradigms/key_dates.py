"""Key dates of an instrument, each with the quote and provision it was read from: adoption,
amendment, publication, entry into force, application, transition deadlines and repeals.

Pure functions over a version's normalised text. One multi-pattern scan (Aho-Corasick) finds the
cue phrases ("shall enter into force", "施行", "tritt … in Kraft", "shall apply from"); only the
sentences around them are read for dates, so a long statute costs a few milliseconds. Written
dates (`25 May 2018`, `2021年11月1日`, `二〇二一年九月一日`, `令和四年四月一日`,
`1er janvier 2025`, `7.6.2021`, `ngày 01 tháng 01 năm 2019`) are normalised by one small
multilingual grammar. Dates written relative to publication ("on the twentieth day following
that of its publication", "自公布之日起施行") are resolved against the publication date when it is
known (given, or stated by the text for itself) and kept unresolved, with their quote, when it
is not.
"""

from __future__ import annotations

import bisect
import calendar
import re
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from functools import cache, lru_cache

import ahocorasick_rs

from paradigms.classifier import provision_names, quote_around, unwrap_lines
from paradigms.taxonomy import lower_same_length
from texts.provisions import PREAMBLE
from texts.vocabulary import DATE_KINDS

ADOPTION, AMENDMENT, PUBLICATION, ENTRY_INTO_FORCE, APPLICATION, TRANSITION, REPEAL = DATE_KINDS
# What a text says of itself only at its top, in its signature or when naming itself.
_SELF_DATED = (ADOPTION, AMENDMENT, PUBLICATION)

# ---------------------------------------------------------------------------------------- dates

# English, French, Spanish, Portuguese, German, Indonesian, Italian, Russian (both cases), Arabic
# (Egyptian and Levantine names).
_MONTH_NAMES: dict[int, tuple[str, ...]] = {
    1: ("january", "jan", "janvier", "enero", "janeiro", "januar", "jänner", "januari", "gennaio",
        "январь", "января", "يناير", "كانون الثاني"),
    2: ("february", "feb", "février", "fevrier", "febrero", "fevereiro", "februar", "februari", "febbraio",
        "февраль", "февраля", "فبراير", "شباط"),
    3: ("march", "mar", "mars", "marzo", "março", "marco", "märz", "maret", "март", "марта", "مارس", "آذار"),
    4: ("april", "apr", "avril", "abril", "aprile", "апрель", "апреля", "أبريل", "ابريل", "نيسان"),
    5: ("may", "mai", "mayo", "maio", "mei", "maggio", "май", "мая", "مايو", "أيار"),
    6: ("june", "jun", "juin", "junio", "junho", "juni", "giugno", "июнь", "июня", "يونيو", "حزيران"),
    7: ("july", "jul", "juillet", "julio", "julho", "juli", "luglio", "июль", "июля", "يوليو", "تموز"),
    8: ("august", "aug", "août", "aout", "agosto", "agustus", "август", "августа", "أغسطس", "آب"),
    9: ("september", "sep", "sept", "septembre", "septiembre", "setiembre", "setembro", "settembre",
        "сентябрь", "сентября", "سبتمبر", "أيلول"),
    10: ("october", "oct", "octobre", "octubre", "outubro", "oktober", "ottobre", "октябрь", "октября",
         "أكتوبر", "تشرين الأول"),
    11: ("november", "nov", "novembre", "noviembre", "novembro", "ноябрь", "ноября", "نوفمبر",
         "تشرين الثاني"),
    12: ("december", "dec", "décembre", "decembre", "diciembre", "dezembro", "dezember", "desember",
         "dicembre", "декабрь", "декабря", "ديسمبر", "كانون الأول"),
}
_MONTHS = {name: number for number, names in _MONTH_NAMES.items() for name in names}
# A month is any word here (Arabic ones may be two words); the word is checked against _MONTHS,
# which keeps the expression small and fast.
_WORD = r"[^\W\d_]{2,}(?: [\u0600-\u06ff]{2,})?"
_DAY_MARK = r"(?:er|º|°|\.|st|nd|rd|th)?"
_CJK_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")} | {"零": 0, "元": 1}
_CJK_SMALL = r"(?:\d{1,2}|[一二三四五六七八九十]{1,3})"  # 1-31 in digits or in numerals: 十一, 二十一
_ERAS = {"令和": 2018, "平成": 1988, "昭和": 1925}  # year 1 of a Japanese era is this + 1
_DATE = re.compile(
    r"(?P<cy>\d{4}|[〇零一二三四五六七八九]{4})\s*[年년]\s*(?P<cm>" + _CJK_SMALL + r")\s*[月월]\s*"
    r"(?P<cd>" + _CJK_SMALL + r")\s*[日일]"
    r"|(?P<era>令和|平成|昭和)\s*(?P<ey>元|" + _CJK_SMALL + r")\s*年\s*(?P<em>" + _CJK_SMALL + r")\s*月\s*"
    r"(?P<ed>" + _CJK_SMALL + r")\s*日"
    r"|ngày\s+(?P<vd>\d{1,2})\s+tháng\s+(?P<vm>\d{1,2})\s+năm\s+(?P<vy>\d{4})"
    r"|\b(?P<iy>\d{4})-(?P<im>\d{2})-(?P<id>\d{2})\b"
    r"|\b(?P<nd>\d{1,2})\.(?P<nm>\d{1,2})\.(?P<ny>\d{4})\b"
    rf"|\b(?P<dd>\d{{1,2}}){_DAY_MARK}\s*(?:de |of )?(?P<dm>{_WORD})\.?,?\s*(?:de |del )?(?P<dy>\d{{4}})\b"
    rf"|\b(?P<mm>{_WORD})\.?\s+(?P<md>\d{{1,2}}){_DAY_MARK},?\s+(?P<my>\d{{4}})\b")
_DATE_PARTS = (("cy", "cm", "cd"), ("ey", "em", "ed"), ("vy", "vm", "vd"), ("iy", "im", "id"),
               ("ny", "nm", "nd"), ("dy", "dm", "dd"), ("my", "mm", "md"))


def _cjk_number(written: str) -> int:
    """12, '十二', '二十一', '二〇二一', '元' (the first year of an era) as an integer."""
    if written.isdigit():
        return int(written)
    if "十" not in written:
        return int("".join(str(_CJK_DIGITS[c]) for c in written))
    tens, _, units = written.partition("十")
    return (_CJK_DIGITS[tens] if tens else 1) * 10 + (_CJK_DIGITS[units] if units else 0)


def parse_date(match: re.Match[str]) -> date | None:
    """The calendar date a `_DATE` match writes, or None (not a month name, no such day)."""
    groups = match.groupdict()
    for year, month, day in _DATE_PARTS:
        if groups[year]:
            written = groups[month]
            number = _cjk_number(written) if year in ("cy", "ey") else (
                int(written) if written.isdigit() else _MONTHS.get(written.lower()))
            first_year = _ERAS[groups["era"]] if year == "ey" else 0
            try:
                return date(first_year + _cjk_number(groups[year]), number,
                            _cjk_number(groups[day])) if number else None
            except ValueError:
                return None
    return None


def dates_in(text: str) -> list[tuple[date, int, int]]:
    """Every written date of a passage: (date, start, end)."""
    return [(found, m.start(), m.end()) for m in _DATE.finditer(text) if (found := parse_date(m))]


# ------------------------------------------------------------------------------------------ cues

# Lower-case phrases that give a sentence's date its kind. Latin-script phrases must start a word.
_CUE_PHRASES: dict[str, tuple[str, ...]] = {
    AMENDMENT: ("amended by", "inserted by", "修订", "修正", "geändert durch", "modifié par", "modifiée par",
                "modificado por", "modificada por", "alterado por", "alterada por"),
    REPEAL: ("is repealed", "are repealed", "is hereby repealed", "are hereby repealed", "shall be repealed",
             "废止", "廃止", "폐지", "queda derogad", "quedan derogad", "derogado", "derogada", "est abrogé",
             "sont abrogé", "est abrogée", "aufgehoben", "tritt außer kraft",
             "fica revogad", "ficam revogad", "утрачивает силу", "утрачивают силу", "dicabut",
             "dinyatakan tidak berlaku", "bãi bỏ", "hết hiệu lực", "يلغى", "يُلغى"),
    APPLICATION: ("shall apply from", "shall apply as from", "applies from", "shall be applicable from",
                  "est applicable à compter", "est applicable à partir", "sont applicables à compter",
                  "s'applique à compter", "s'applique à partir", "s'appliquent à compter",
                  "será aplicable a partir", "serán aplicables a partir", "se aplicará a partir",
                  "se aplicarán a partir", "gilt ab", "gelten ab", "é aplicável a partir",
                  "são aplicáveis a partir", "aplica-se a partir", "適用する"),
    ENTRY_INTO_FORCE: ("enter into force", "enters into force", "entered into force", "entry into force",
                       "come into force", "comes into force", "came into force", "come into operation",
                       "comes into operation", "commencement date", "take effect", "takes effect",
                       "shall be effective", "is effective", "施行", "生效", "시행", "entrará en vigor",
                       "entrarán en vigor", "entra en vigor", "entrará en vigencia", "entrarán en vigencia",
                       "comenzará a regir", "regirá", "rige a partir", "entre en vigueur",
                       "entrera en vigueur",
                       "entrent en vigueur", "entreront en vigueur", "entra em vigor", "entrará em vigor",
                       "entram em vigor", "in kraft", "inkrafttreten", "mulai berlaku", "có hiệu lực",
                       "вступает в силу", "вступают в силу", "يعمل به", "يسري", "نافذ"),
    TRANSITION: ("transitional period", "transition period", "no later than", "not later than",
                 "at the latest", "shall bring into force", "into conformity with", "过渡期", "a más tardar",
                 "au plus tard", "spätestens", "paling lambat", "paling lama", "selambat-lambatnya",
                 "не позднее"),
    PUBLICATION: ("公布", "공포", "published in", "publication in the official journal", "oj l ",
                  "publicado en", "publicada en", "publié au", "publiée au", "veröffentlicht", "verkündet",
                  "diundangkan di", "опубликован"),
    ADOPTION: ("会议通过", "adopted", "done at", "hecho en", "fait à", "geschehen zu", "feito em",
               "signed at", "the white house", "disahkan di", "ditetapkan di", "принят", "成立", "의결",
               "تم اعتماد"),
}
_CUE_KIND = {phrase: kind for kind, phrases in _CUE_PHRASES.items() for phrase in phrases}
_NOT_A_CUE = ("not yet ",)  # "(not yet published in the Official Journal)"

# This instrument named as a sentence's subject ("This Regulation", "本法", "la presente ley").
SELF_PHRASES = tuple(
    f"{this} {noun}" for this in ("this", "the present")
    for noun in ("regulation", "directive", "decision", "act", "law", "ordinance", "order", "agreement",
                 "convention", "protocol", "decree", "statute", "instrument", "chapter", "measures", "rules")
) + ("本法", "本条例", "本规定", "本办法", "本决定", "本细则", "本措施", "本规则", "この法律", "この政令",
     "この省令", "이 법", "이 영", "la presente ley", "esta ley", "el presente reglamento",
     "el presente decreto",
     "la présente loi", "le présent règlement", "le présent décret", "la présente directive",
     "la présente décision", "cette loi", "a presente lei", "esta lei", "o presente regulamento",
     "este decreto", "dieses gesetz", "diese verordnung", "dieses übereinkommen", "dieses protokoll",
     "dieses abkommen", "diese richtlinie", "dieser beschluss", "undang-undang ini",
     "peraturan pemerintah ini", "peraturan menteri ini", "luật này", "nghị định này", "настоящий закон",
     "настоящий федеральный закон",
     "настоящее постановление", "هذا النظام", "هذا القانون", "هذه اللائحة")
# Another instrument, or an amendment, named in the sentence: "Directive 95/46/EC", "《…》".
OTHER_INSTRUMENT = re.compile(
    r"(?<!this )\b(?:directive|regulation|decision|règlement|reglamento|richtlinie|verordnung)\s+"
    r"(?:\((?:eu|ec|eec)\)\s*)?(?:no\.?\s*)?\d+/\d+|《[^》]{2,60}》|\bamendments?\b|\bdelegated acts?\b|"
    r"\bprovisions necessary to comply\b")
_CITED_DATE = re.compile(r"\b(?:of|vom|dated)\s+$")  # "the Act of 21 March 1997": a citation

# The verb of a clause that brings this instrument into force, kept even when it gives no date
# ("on the first day of the month following three months after five ratifications").
_ENACTING_VERBS = ("shall enter into force", "will enter into force", "enters into force", "comes into force",
                   "shall come into force", "shall come into operation", "起施行", "から施行する",
                   "부터 시행한다", "entrará en vigor", "entrarán en vigor", "entrará en vigencia",
                   "entre en vigueur",
                   "entrera en vigueur", "tritt", "entra em vigor", "entrará em vigor", "mulai berlaku",
                   "có hiệu lực", "вступает в силу")
_ENACTING_REACH = 30   # characters from the instrument's name to its verb
# Words that make an entry into force a mere reference to that moment ("before the amendment came
# into force", "本法施行前", "pada saat Undang-Undang ini mulai berlaku").
_REFERENCE_BEFORE = re.compile(
    r"\b(?:before|after|until|since|when|once|time|which|prior to|antes de|avant|vor|zu dem|zum|saat|sebelum|"
    r"sejak|setelah|ngày)\b"
    r"[^.;,]{0,45}$")
_REFERENCE_AFTER = ("前", "以前", "之前", "后", "以后", "之日", "の際", "当時")

# --------------------------------------------------------------------------- relative dates

_NUMBERS = {
    "first": 1, "second": 2, "third": 3, "fifth": 5, "tenth": 10, "fifteenth": 15, "twentieth": 20,
    "thirtieth": 30, "sixtieth": 60, "ninetieth": 90, "one": 1, "two": 2, "three": 3, "six": 6, "twelve": 12,
    "four": 4, "five": 5, "ten": 10, "fifteen": 15, "eighteen": 18, "twenty": 20, "thirty": 30,
    "forty-five": 45, "sixty": 60, "ninety": 90, "one hundred and eighty": 180, "ciento ochenta": 180,
    "vingtième": 20, "trentième": 30, "vigésimo": 20, "veinte": 20, "treinta": 30, "sesenta": 60,
    "noventa": 90, "seis": 6, "zwanzigsten": 20, "dreißigsten": 30, "dreissigsten": 30,
    "一": 1, "二": 2, "三": 3, "六": 6, "十二": 12, "十八": 18, "二十": 20, "三十": 30, "六十": 60,
    "九十": 90,
}
_NUMBER = "(?:" + "|".join(sorted(map(re.escape, _NUMBERS), key=len, reverse=True)) + r"|\d+)"
_PUBLICATION_WORDS = ("publication", "publicación", "publicação", "promulgation", "promulgación",
                      "promulgação", "veröffentlichung", "verkündung", "公布",
                      "发布", "공포", "diundangkan", "pengundangan", "опубликования", "النشر", "نشره")
_PUBLICATION = "(?:" + "|".join(_PUBLICATION_WORDS) + ")"
_RELATIVE = re.compile(
    # "on the twentieth day following that of its publication",
    # "le vingtième jour suivant celui de sa publication"
    rf"(?P<ordinal>{_NUMBER})(?:th)? (?:day|jour|día|dia|tag) "
    rf"(?:following|after|suivant|siguiente|nach|seguinte|após)[^.;。]{{0,40}}?{_PUBLICATION}"
    # "sixty days after its publication", "2 (dua) tahun setelah diundangkannya",
    # "dentro del plazo de sesenta días, contados desde ... su publicación"
    rf"|(?P<count>{_NUMBER})\s*(?:\([^)]{{1,12}}\)\s*)?(?P<unit>days?|months?|years?|días|dias|meses|mois|jours|"
    rf"ans|años|anos|tagen?|monaten?|jahren?|hari|bulan|tahun|يوم|أيام|شهر|أشهر|سنة|سنوات|日|个月|か月|ヶ月|개월|"
    rf"일|년)[^.;。]{{0,50}}?"
    rf"(?:after|following|from|of|desde|de|après|à compter de|nach|após|setelah|sejak|من|بعد|起|后|後|"
    rf"경과|후)"
    rf"[^.;。]{{0,30}}?{_PUBLICATION}"
    rf"|{_PUBLICATION}[^.;。]{{0,12}}?(?:后|後|から起算して|후)\s*(?P<count_after>{_NUMBER})\s*"
    rf"(?P<unit_after>日|个月|か月|ヶ月|月|年|개월|일|년)"
    # "on the day of its publication", "自公布之日起施行", "公布の日から施行する", "공포한 날부터"
    rf"|(?P<same_day>(?:on|from) the (?:day|date) of (?:its|their) {_PUBLICATION}|"
    rf"{_PUBLICATION}(?:之日|の日|한 날)|"
    rf"à la date de (?:sa|leur) publication|(?:a partir de|desde) (?:la fecha de )?su publicación|"
    rf"mit (?:seiner|ihrer) verkündung|pada tanggal diundangkan|"
    rf"immediately (?:after|upon) (?:its )?{_PUBLICATION}|"
    rf"a partir de su {_PUBLICATION})"
    # "the day following that of its publication", "le lendemain de sa publication"
    rf"|(?P<next_day>the day following (?:that of )?(?:its|their) {_PUBLICATION}|"
    rf"le (?:lendemain|jour suivant celui) de (?:sa|leur) publication|el día siguiente al de su publicación|"
    rf"am tag nach (?:seiner|ihrer|der) (?:verkündung|veröffentlichung))")
_DAY_UNITS = ("day", "día", "dia", "jour", "tag", "hari", "يوم", "أيام", "日", "일")
_YEAR_UNITS = ("year", "an", "año", "ano", "jahr", "tahun", "سن", "年", "년")

# -------------------------------------------------------------------------------- sentences

# A full stop after a digit ends no sentence: "1. Januar 2025", "Art. 5. Abs. 2".
_SENTENCE_END = re.compile(r"\n|。|；|(?<=[.;!?])(?<!\d\.)\s+(?=[A-ZÀ-ÖØ-Þ¿¡\"“(])")
_SENTENCE_START = re.compile(r".*(?:\n|。|；|(?<!\d)[.;!?]\s+(?=[A-ZÀ-ÖØ-Þ¿¡\"“(]))", re.DOTALL)
_SENTENCE_REACH = 600   # how far back and forward a cue's sentence may reach
_DATE_REACH = 160       # how far from its cue a written date still belongs to it
HEADER_CHARS = 1500     # the top of a text, where it states its own adoption and publication


@dataclass(frozen=True)
class KeyDate:
    kind: str                 # one of DATE_KINDS
    date: date | None         # None: relative to something the text does not date
    quote: str
    provision: str
    basis: str = ""           # how a relative date was reckoned: "20 days after publication (2016-05-04)"
    of_this_instrument: bool = True  # False: the date of another instrument, or of an amendment

    def to_json(self) -> dict:
        data = asdict(self)
        data["date"] = self.date.isoformat() if self.date else None
        return data


@dataclass(frozen=True)
class Cue:
    kind: str
    start: int          # of the cue phrase, in the sentence
    end: int
    begin: int          # of the sentence, in the text
    sentence: str
    lowered: str        # the sentence in lower case, same offsets

    @property
    def names_this(self) -> bool:
        """Whether the sentence names this instrument ("this Regulation", "本法")."""
        return bool(self_names(self.lowered))


@dataclass(frozen=True)
class Prepared:
    """A text made ready for reading dates and stages: its cues, located in provisions."""
    text: str              # lines unwrapped, so that a sentence is whole
    starts: list[int]      # where each provision starts in `text`
    names: list[str]       # the name a reader would cite, per provision
    cues: list[Cue]

    def provision_at(self, at: int) -> str:
        index = bisect.bisect_right(self.starts, at) - 1
        return self.names[index] if index >= 0 else ""

    def in_header(self, at: int) -> bool:
        """Near the top or before the first numbered provision: where a text says what it is."""
        return at < HEADER_CHARS or self.provision_at(at) in ("", PREAMBLE)


@cache
def _cue_scanner() -> ahocorasick_rs.AhoCorasick:
    # A DFA costs more to build, once, and scans a long statute four times faster than the NFA.
    return ahocorasick_rs.AhoCorasick(list(_CUE_KIND), matchkind=ahocorasick_rs.MatchKind.LeftmostLongest,
                                      implementation=ahocorasick_rs.Implementation.DFA)


@cache
def _self_scanner() -> ahocorasick_rs.AhoCorasick:
    return ahocorasick_rs.AhoCorasick(list(SELF_PHRASES))


def self_names(lowered: str) -> list[tuple[int, int]]:
    """(start, end) of every phrase of a lower-cased passage that names this instrument."""
    return [(start, end) for _, start, end in _self_scanner().find_matches_as_indexes(lowered)]


def _sentence_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """The sentence around text[start:end]: from the last sentence end before it to the next after."""
    back = max(0, start - _SENTENCE_REACH)
    head = _SENTENCE_START.match(text, back, start)
    begin = head.end() if head else back
    tail = _SENTENCE_END.search(text, end, min(len(text), end + _SENTENCE_REACH))
    if tail and text[:tail.start()].rstrip().endswith(","):  # "THE WHITE HOUSE,\nFebruary 28, 2024."
        tail = _SENTENCE_END.search(text, tail.end(), min(len(text), tail.end() + _SENTENCE_REACH))
    return begin, tail.start() if tail else min(len(text), end + _SENTENCE_REACH)


def _starts_word(lowered: str, start: int, phrase: str) -> bool:
    return not (phrase[0].isascii() and phrase[0].isalpha() and start and lowered[start - 1].isalnum())


@lru_cache(maxsize=2)
def prepare(text: str) -> Prepared:
    """Unwrapped text, its provisions and every cue phrase in its sentence: one multi-pattern scan,
    so that regular expressions only ever read the few sentences that hold a cue. A new version's
    links and lifecycle read the same text one after the other: the second reading reuses the
    first's preparation (nobody changes a `Prepared`)."""
    clean = unwrap_lines(text)
    lowered = lower_same_length(clean)
    starts, names, cursor = [], [], 0
    for name, body in provision_names(clean):
        found = clean.find(body, cursor)
        if found >= 0:
            starts.append(found)
            names.append(name)
            cursor = found + len(body)
    cues: list[Cue] = []
    bounds = (0, 0)
    for _, start, end in _cue_scanner().find_matches_as_indexes(lowered):
        phrase = lowered[start:end]
        if not _starts_word(lowered, start, phrase) or lowered[max(0, start - 9):start].endswith(_NOT_A_CUE):
            continue
        if not bounds[0] <= start < bounds[1]:
            bounds = _sentence_bounds(clean, start, end)
        begin, stop = bounds
        cues.append(Cue(_CUE_KIND[phrase], start - begin, end - begin, begin, clean[begin:stop],
                         lowered[begin:stop]))
    return Prepared(clean, starts, names, cues)


def nearest_date(cue: Cue) -> tuple[date, int, int] | None:
    """The written date closest to the cue, within `_DATE_REACH`; a date that only cites another
    act ("the Act of 21 March 1997") is not the date of this cue."""
    best, best_gap = None, _DATE_REACH + 1
    for found in dates_in(cue.sentence):
        if _CITED_DATE.search(cue.lowered, max(0, found[1] - 8), found[1]):
            continue
        gap = max(found[1] - cue.end, cue.start - found[2], 0)
        if gap < best_gap:
            best, best_gap = found, gap
    return best


def _written_publication(prepared: Prepared) -> date | None:
    """The publication date a text gives for itself (an OJ reference or a promulgation line in its
    header, or a sentence naming this instrument), if any."""
    for cue in prepared.cues:
        if cue.kind == PUBLICATION and (prepared.in_header(cue.begin) or cue.names_this):
            if found := nearest_date(cue):
                return found[0]
    return None


def _number(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBERS[word]


def _add_months(start: date, months: int) -> date:
    year, month = divmod(start.month - 1 + months, 12)
    year, month = start.year + year, month + 1
    return start.replace(year=year, month=month, day=min(start.day, calendar.monthrange(year, month)[1]))


def _offset(match: re.Match[str]) -> tuple[int, str] | None:
    """(amount, 'day'/'month'/'year') after publication that a `_RELATIVE` match states."""
    if match.group("same_day"):
        return 0, "day"
    if match.group("next_day"):
        return 1, "day"
    if ordinal := match.group("ordinal"):
        return _number(ordinal), "day"
    count = match.group("count") or match.group("count_after")
    unit = match.group("unit") or match.group("unit_after")
    if not count:
        return None
    kind = "day" if unit.startswith(_DAY_UNITS) else "year" if unit.startswith(_YEAR_UNITS) else "month"
    return _number(count), kind


def _relative_date(cue: Cue, written: tuple[date, int, int] | None,
                   publication: date | None) -> tuple[date | None, str] | None:
    """(date, basis) of a date the sentence states relative to publication, when that is closer to
    the cue than any written date; None when the sentence states none."""
    if not any(word in cue.lowered for word in _PUBLICATION_WORDS):
        return None
    relative = _RELATIVE.search(cue.lowered)
    if relative is None or (written and abs(written[1] - cue.start) <= abs(relative.start() - cue.start)):
        return None
    offset = _offset(relative)
    if offset is None:
        return None
    amount, unit = offset
    reckoning = f"{amount} {unit}{'s' if amount != 1 else ''} after publication"
    if publication is None:
        return None, f"{reckoning} (publication date unknown)"
    if unit == "day":
        resolved = publication + timedelta(days=amount)
    else:
        resolved = _add_months(publication, amount * (12 if unit == "year" else 1))
    return resolved, f"{reckoning} ({publication.isoformat()})"


def _enacts_this(lowered: str) -> bool:
    """Whether a sentence brings this instrument into force ("This Agreement shall enter into
    force…", "Dieses Übereinkommen tritt…") rather than refers to that moment ("before this Act
    comes into force")."""
    for start, end in self_names(lowered):
        if _REFERENCE_BEFORE.search(lowered, max(0, start - 60), start):
            continue
        if any(verb in lowered[end:end + _ENACTING_REACH + len(verb)] for verb in _ENACTING_VERBS):
            return True
    return False


def _refers_to_the_moment(cue: Cue) -> bool:
    """Whether an entry-into-force phrase only refers to that moment instead of setting it."""
    return (bool(_REFERENCE_BEFORE.search(cue.lowered, max(0, cue.start - 60), cue.start))
            or cue.lowered.startswith(_REFERENCE_AFTER, cue.end))


def key_dates_of(prepared: Prepared, published: date | None = None) -> list[KeyDate]:
    """The key dates of a prepared text; see `find_key_dates`."""
    publication = published or _written_publication(prepared)
    found: list[KeyDate] = []
    seen: set[tuple[str, date | None, int]] = set()
    for cue in prepared.cues:
        names_this = cue.names_this
        signature = cue.kind == ADOPTION and cue.start < 3  # "Done at Brussels, 4 June 2021."
        if cue.kind in _SELF_DATED and not (prepared.in_header(cue.begin) or names_this or signature):
            continue
        if cue.kind in (ENTRY_INTO_FORCE, APPLICATION) and _refers_to_the_moment(cue):
            continue
        written = nearest_date(cue)
        relative = None if cue.kind in _SELF_DATED else _relative_date(cue, written, publication)
        if relative:
            when, basis = relative
        elif written:
            when, basis = written[0], ""
        elif cue.kind in (ENTRY_INTO_FORCE, APPLICATION) and _enacts_this(cue.lowered):
            when, basis = None, "not dated by the text"
        else:
            continue
        key = (cue.kind, when, cue.begin if when is None else -1)
        if key in seen:
            continue
        seen.add(key)
        of_this = cue.kind != AMENDMENT and (names_this or not OTHER_INSTRUMENT.search(cue.lowered))
        found.append(KeyDate(cue.kind, when, quote_around(cue.sentence, cue.start, cue.end),
                             prepared.provision_at(cue.begin + cue.start), basis, of_this))
    return found


def find_key_dates(text: str, published: date | None = None) -> list[KeyDate]:
    """The dated events a version's normalised text states, in text order, once per kind and date.
    `published` (known from the page or the gazette) resolves dates written relative to
    publication; without it, the publication date the text gives for itself is used.

    Adoption, amendment and publication count only in the header, in a signature line or in a
    sentence naming this instrument (EU footnotes cite dozens of other acts' OJ dates). An entry
    into force or application without any date is kept, unresolved, only when this instrument is
    the subject of the clause."""
    return key_dates_of(prepare(text), published)

