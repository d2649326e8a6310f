"""The three paradigms of cross-border data-flow policy, the three dimensions along which
policies differ, and the indicators that show each, in twelve languages.

Paradigms and dimensions follow the World Internet Conference's comparative study (April 2025):
Framework-based Facilitation, Prudent and Flexible, Restrictive; data possession (where data must
stay), exchange (how it may leave), reception (conditions on recipients, onward transfer,
government access). Indicators are regular expressions, written in lower case and matched
against the lower-cased text; negated forms ("no Party shall require…", "不得要求…") are
indicators of their own, and a negator just before a restrictive phrase cancels it.

An indicator counts only where the provision speaks of data leaving the jurisdiction
(`TRANSFER_CONTEXT`), unless its own wording already says so (`self_contextual`). The force of
the sentence it sits in weighs it: an endeavour, a cooperation clause or a recital (`SOFT`)
counts for less than a binding rule, and so does a sentence that only points to rules made
elsewhere (`REFERRALS`). Qualifiers (exceptions, derogations) never decide alone.

Every pattern of an indicator or a cue yields the literal words any match of it must contain
(`required_literals`): one multi-pattern scan for those words finds the few sentences, and the
few patterns, worth matching at all.
"""

from __future__ import annotations

import re
import re._parser as sre_parse  # the `re` module's own pattern parser (`sre_parse` is its deprecated alias)
from dataclasses import dataclass
from functools import cached_property

from texts.vocabulary import FACILITATION, PRUDENT, RESTRICTIVE

POSSESSION, EXCHANGE, RECEPTION = "possession", "exchange", "reception"

_FLAGS = re.UNICODE  # patterns are lower case; texts are lower-cased by `lower_same_length`


def lower_same_length(text: str) -> str:
    """Lower case, keeping every offset (a few characters grow when lower-cased, e.g. 'İ')."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


# Words too common in legal text to be worth scanning for when a rarer one is required too.
_COMMON_WORDS = frozenset({
    "of the", "the", "of", "to the", "in the", "and", "or", "data", "information", "personal", "countr",
    "country", "territory", "person", "authorit", "authori", "protection", "provide", "transfer", "state",
    "international", "group", "member", "require", "shall", "may", "not", "no",
    # function words and endings of countless words: "to" and "ation" alone were most of the
    # scan's matches on a long statute
    "to", "with", "without", "for", "by", "on", "at", "as", "an", "be", "any", "such", "ation", "tion",
})


def _worth(literals: frozenset[str]) -> int:
    """How selective a set of alternative literals is: its shortest, common words counting one."""
    return min(1 if w.strip() in _COMMON_WORDS else len(w.strip()) for w in literals)


def _literals(items: list) -> frozenset[str] | None:
    """The literal strings one of which every match of a parsed sequence contains, or None."""
    best: frozenset[str] | None = None
    run: list[str] = []

    def consider(found: frozenset[str] | None) -> None:
        nonlocal best
        if found and all(w.strip() for w in found) and (best is None or _worth(found) > _worth(best)):
            best = found

    for op, argument in items:
        if op is sre_parse.LITERAL:
            run.append(chr(argument))
            continue
        consider(frozenset({"".join(run)}) if run else None)
        run = []
        if op is sre_parse.SUBPATTERN:
            consider(_literals(list(argument[3])))
        elif op is sre_parse.BRANCH:
            branches = [_literals(list(branch)) for branch in argument[1]]
            if all(branches):
                consider(frozenset().union(*branches))  # type: ignore[arg-type]
        elif op in (sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT) and argument[0] >= 1:
            consider(_literals(list(argument[2])))
    consider(frozenset({"".join(run)}) if run else None)
    return best


def required_literals(pattern: str) -> frozenset[str]:
    """Words one of which is in every match of `pattern` (its most selective mandatory literal
    run, or alternatives of one); empty when it has none, which `tests/test_paradigms.py` forbids."""
    return _literals(list(sre_parse.parse(pattern, _FLAGS))) or frozenset()


class PatternSet:
    """Patterns matched one by one, each with the words any of its matches contains, so that a
    sentence is matched only against the patterns whose words it holds."""

    patterns: tuple[str, ...]

    @cached_property
    def compiled(self) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(p, _FLAGS) for p in self.patterns)

    @cached_property
    def literals(self) -> tuple[frozenset[str], ...]:
        return tuple(required_literals(p) for p in self.patterns)


@dataclass(frozen=True)
class Indicator(PatternSet):
    """One kind of evidence for one paradigm along one dimension."""

    id: str
    paradigm: str
    dimension: str
    weight: float
    patterns: tuple[str, ...]
    self_contextual: bool = False  # its wording already speaks of data leaving the jurisdiction
    route: bool = False            # one of the menu of transfer routes (prudent)
    negatable: bool = False        # cancelled by a negator just before it
    qualifier: bool = False        # an exception or derogation: qualifies a rule, never decides alone
    near_context: bool = False     # the cross-border context must be in its sentence or the list's lead-in


# Does a provision speak of data leaving the jurisdiction at all?
TRANSFER_CONTEXT = (
    # English
    r"(?:cross[- ]border|transborder|trans-border|international) (?:data|transfers?|flows?|(?:transfer|flow|provision|"
    r"disclosure|movement) of|information|personal|privacy)", r"third countr", r"international organi[sz]ation",
    r"outside (?:of )?(?:the )?(?:territory|country|kingdom|union|jurisdiction|state|\w+'s territory|\w+ area)",
    r"\babroad\b", r"overseas", r"foreign (?:countr|recipient|jurisdiction|state|government|entit|person|organi)",
    r"outside (?:india|china|the federation|singapore|kenya|canada|the philippines|switzerland)",
    r"countries of concern", r"transfer\w* (?:of )?(?:personal )?(?:data|information) (?:to|outside)",
    r"international (?:data )?transfer", r"data locali[sz]ation", r"computing facilities",
    r"(?:free )?flows? of (?:data|information)", r"data flows?", r"disclos\w+ abroad",
    r"other (?:countr|jurisdiction)", r"another (?:country|jurisdiction)", r"out of the country",
    r"across (?:national )?borders", r"\bexport\w* of (?:personal |core |important )?data", r"data exporter",
    r"transfer\w*[^.;]{0,60}\b(?:to|into) (?:\w+ )?(?:countries|jurisdictions)\b", r"destination countr",
    r"(?:stored|processed|kept|hosted) locally", r"located in the country",
    r"(?:transferr|disclos|process|shar)\w*[^.;]{0,50}\binternationally\b", r"cross-border arrangement",
    # Chinese
    r"向境外", r"境外接收方", r"出境", r"数据跨境", r"跨境(?:传输|流动|提供|数据)", r"数据流动",
    r"境外(?:存储|传输|提供|机构|组织|个人)", r"对外提供", r"向外国", r"外国(?:司法|执法|政府)",
    # Spanish
    r"transferencias? internacional", r"internacionales? de datos", r"transfronteriz", r"terceros? países?",
    r"país tercero", r"tercer país", r"fuera del territorio", r"flujos? (?:transfronterizos? )?de datos",
    r"(?:al|en el|del) extranjero", r"(?:terceros?|destinatarios?|receptores?|países|entidades) (?:nacionales o )?extranjer",
    r"países u organismos internacionales", r"otro país", r"transferencias?[^.;]{0,60} a países",
    # French
    r"transferts? (?:de données )?(?:vers|hors)", r"pays tiers?", r"transfrontali", r"flux de données", r"l'étranger",
    r"transferts?[^.;]{0,60} vers les pays",
    # Portuguese
    r"transferências? internaciona", r"transfronteiri", r"país(?:es)? estrangeiro", r"fluxos? de dados",
    r"terceiros? países", r"para o exterior", r"no exterior", r"transferência[^.;]{0,60} para países",
    # German
    r"drittl(?:and|ändern?|staat)", r"grenzüberschreitend", r"ins ausland", r"im ausland", r"datenfl(?:uss|üsse)",
    r"internationale(?:n)? organisation", r"übermittlung[^.;]{0,60} in staaten", r"bestimmungsland",
    r"rechtshoheit (?:einer|eines) (?:anderen|vertrags)", r"(?:anderen|andere) vertragspartei", r"nichtvertragsstaat",
    r"nicht der rechtshoheit",
    # Japanese
    r"外国にある", r"外国(?:の第三者|へ)", r"国外", r"越境移転", r"海外",
    # Korean
    r"국외", r"해외", r"외국(?:으로|에 있는|의 제3자)",
    # Vietnamese
    r"ra nước ngoài", r"xuyên biên giới", r"ngoài lãnh thổ", r"(?:bên|tổ chức) nhận ở nước ngoài",
    # Russian
    r"трансграничн", r"иностранн\w+ государств", r"за пределы", r"за рубеж",
    # Indonesian
    r"luar wilayah", r"luar negeri", r"lintas negara", r"lintas batas",
    # Arabic
    r"خارج المملكة", r"خارج الدولة", r"خارج الإقليم", r"عبر الحدود", r"دولة أخرى", r"جهات خارج",
)
NEGATORS = (
    r"\bno (?:party|member|state|person)\b[^.;]{0,60}\b(?:shall|may)\b", r"\bshall not\b", r"\bmay not\b",
    r"\bdoes not\b", r"\bdo not\b", r"\bwill not\b", r"\bnot (?:to )?(?:impose|authori[sz]e|introduce)\b",
    r"\bmust not\b", r"\bnot be required\b", r"\bneither\b", r"\bnor\b", r"\bwithout (?:the )?need\b",
    r"不得要求", r"无需", r"不需要", r"免予", r"ninguna parte", r"no (?:podrá|exigirá|deberá)", r"aucune partie",
    r"ne (?:peut|doit|pourra)", r"nenhuma parte", r"não (?:poderá|exigirá|deverá)",
    r"keine vertragspartei", r"darf nicht", r"nicht verlangen", r"要求しない", r"してはならない", r"하여서는 아니",
    r"không (?:được )?yêu cầu", r"не (?:вправе|должн|требу)", r"tidak (?:boleh|wajib)", r"لا يجوز",
)
EXCEPTIONS = (
    r"\bexcept\b", r"\bunless\b", r"\bprovided that\b", r"\bnothing in this (?:article|chapter|section)\b",
    r"legitimate public policy", r"除外", r"但是", r"salvo", r"excepto", r"sauf", r"à moins que", r"exceto",
    r"a menos que", r"es sei denn", r"ausgenommen", r"ただし", r"다만", r"trừ trường hợp", r"за исключением",
    r"kecuali", r"باستثناء",
)
# Endeavours, cooperation, recitals and recommendations: a sentence in these words binds no one.
SOFT = (
    r"\bendeavou?r", r"\bstrive", r"\bseek to\b", r"\bwork(?:ing)? (?:to|towards|together)\b", r"\bcooperat",
    r"\bco-operat", r"\brecogni[sz]e (?:the importance|that)", r"\baffirm", r"\bencourage", r"\bpromote\b",
    r"\bshould\b", r"\baim(?:s)? to\b", r"\bexchange (?:information|views)", r"\bdialogue", r"\bwhereas\b",
    r"\bmay consider\b", r"\bexplore\b", r"procurar", r"cooperar", r"se esforzar", r"buscar[áa]n",
    r"reconoce[nr]? (?:la importancia|que)",
    r"promover", r"fomentar", r"alentar", r"s'efforce", r"coopér", r"reconnaiss", r"procurarão",
    r"cooperarão", r"reconhecem", r"bemühen", r"zusammenarbeit", r"鼓励", r"支持", r"推动", r"推进", r"促进", r"探索",
    r"加强[^。；]{0,20}合作", r"开展[^。；]{0,20}合作", r"努力", r"致力于", r"努める", r"協力", r"노력", r"협력", r"nỗ lực",
    r"hợp tác", r"khuyến khích", r"стремят", r"сотруднич", r"berupaya", r"kerja sama", r"تتعاون", r"تسعى",
)


INDICATORS: tuple[Indicator, ...] = (
    # ---------------------------------------------------------------- restrictive
    Indicator("localisation-mandate", RESTRICTIVE, POSSESSION, 3.0, (
        r"(?:shall|must|are required to|is required to|be required to)\s+(?:be\s+)?(?:stored?|kept|kept and processed|"
        r"retained?|hosted|processed)\s+(?:and processed\s+)?(?:only\s+)?(?:with)?in\s+(?:the\s+)?"
        r"(?:territory|country|kingdom|federation|republic|national territory|\w+n? territory)",
        r"(?:store|keep|retain|host)\w*\s+(?:a copy of\s+)?(?:such|the|all|personal|their)?\s*"
        r"(?:personal\s+)?(?:data|information)\s+(?:only\s+)?(?:with)?in\s+(?:the\s+)?(?:territory|country)",
        r"locali[sz]ation (?:requirement|obligation|mandate)s?\b(?! (?:as a condition|shall not))",
        r"(?:store|keep|host|retain)\w*[^.;]{0,60}\b(?:data|information|databases?)\b[^.;]{0,60}?(?:located |situated )?(?:with)?in (?:the )?(?:territory|country|national territory)",
        r"(?:processed|stored)[^.;]{0,40}\bin (?:that|the) area\b",
        r"(?:shall|must)[^.;]{0,20}(?:stored|processed|kept|hosted)[^.;]{0,40}(?:servers?|data cent(?:re|er)s?|systems?|"
        r"facilities)\s+located (?:with)?in (?:the )?(?:country|territory)",
        r"(?:conservar|almacenar|alojar|mantener)[^.;]{0,80}(?:ubicad|situad|localizad)\w* en el territorio",
        r"(?:manter|armazenar|conservar)[^.;]{0,80}(?:localizad|situad)\w* no território",
        r"(?:héberg|stock|conserv)\w*[^.;]{0,60}sur le territoire(?: national)?",
        r"应当(?:在|于)(?:中华人民共和国|中国)?境内存储", r"在(?:中华人民共和国|中国)?境内(?:存储|存放|保存)", r"本地化存储",
        r"(?:存储|存放|保存|处理|加工|整理)[^。；]{0,30}应当在(?:中华人民共和国|中国)?境内(?:进行|完成)?",
        r"(?:服务器|数据中心|备份|备份系统|系统)[^。；]{0,10}设(?:在|于|置在)(?:中华人民共和国|中国)?境内",
        r"deber[áa]n? (?:ser )?(?:almacenad|conservad|alojad)\w*\s+(?:únicamente\s+)?en (?:el )?territorio",
        r"almacenamiento local obligatorio",
        r"doivent être (?:stockées|hébergées|conservées)\s+(?:exclusivement\s+)?(?:sur le territoire|en france|dans l'union)",
        r"(?:deverão|devem) ser (?:armazenad|mantid)\w+\s+(?:exclusivamente\s+)?(?:em|no) território",
        r"(?:müssen|sind)\s+(?:ausschließlich\s+)?im inland\s+(?:zu\s+)?(?:speicher|gespeichert|verarbeite)\w*",
        # Japanese, Korean
        r"国内(?:に|で)(?:保存|保管|設置)(?:し|する)?(?:なければならない|しなければならない)",
        r"국내에\s?(?:저장|보관|설치)(?:하여야|해야)",
        # Vietnamese: "phải lưu trữ dữ liệu này tại Việt Nam"
        r"(?:phải|buộc)\s+lưu trữ[^.;]{0,80}tại việt nam", r"lưu trữ[^.;]{0,40}tại việt nam[^.;]{0,40}thời gian",
        # Russian: recording ... storage ... with databases located in the territory of the Russian Federation
        r"баз данных,? находящихся на территории российской федерации",
        r"(?:хранение|хранить|обработк)\w*[^.;]{0,80}на территории (?:российской федерации|республики)",
        # Indonesian: "wajib menempatkan Sistem Elektronik dan Data Elektronik di wilayah Indonesia"
        r"wajib (?:menempatkan|menyimpan)[^.;]{0,80}di wilayah (?:negara )?(?:republik )?indonesia",
        # Arabic: "تخزين ... داخل المملكة"
        r"(?:تخزين|حفظ|معالجة)[^.؛]{0,60}داخل (?:المملكة|الدولة)",
    ), self_contextual=True, negatable=True),
    Indicator("government-security-assessment", RESTRICTIVE, EXCHANGE, 2.5, (
        r"security assessment (?:organi[sz]ed|conducted|carried out) by",
        r"(?:pass|passed|undergo|apply for|declare for)\w* (?:a |the )?(?:government |state |national )?security assessment",
        r"(?:国家网信部门组织的|数据出境)安全评估", r"申报(?:数据出境)?安全评估", r"通过安全评估",
        r"(?:境外|出境)[^。；，]{0,60}(?:进行|通过)[^。；，]{0,10}安全评估",
        r"(?:向境外|出境)[^。；]{0,30}应当[^。；]{0,50}(?:进行|通过)安全评估",
        r"evaluación de seguridad (?:realizada|organizada) por",
        r"évaluation de sécurité (?:menée|organisée) par",
        r"avaliação de segurança (?:realizada|organizada) pel",
        r"sicherheitsbewertung durch (?:die )?(?:staatlich|behörd)", r"staatliche(?:n)? sicherheitsbewertung",
        r"evaluaci[óo]n de seguridad realizada por el estado", r"évaluation de sécurité menée par l'état",
        r"安全(?:評価|審査)を受け", r"보안\s?(?:평가|심사)를 받", r"đánh giá an ninh dữ liệu",
        r"оценк\w+ безопасности", r"penilaian keamanan", r"تقييم (?:أمني|الأمن)",
    ), negatable=True),
    Indicator("prior-approval", RESTRICTIVE, EXCHANGE, 2.5, (
        r"prior (?:written )?(?:authori[sz]ation|approval|permission|licen[cs]e) (?:of|from|by) the (?:competent |relevant )?(?:authorit|minist|government|agency|regulator)",
        r"(?:approval|authori[sz]ation|licen[cs]e) (?:of|from|by) the (?:competent |relevant )?(?:authorit|minist|government)\w*\s+(?:before|prior to)",
        r"(?:shall|must) (?:first )?obtain (?:the )?(?:approval|authori[sz]ation|permission) (?:of|from) the",
        r"obtain(?:ed|s)? (?:the )?(?:prior )?(?:approval|authori[sz]ation|permission) (?:of|from) the",
        r"经(?:主管部门|国家网信部门|有关主管机关)?批准", r"非经[^，。；]{0,20}批准", r"未经[^，。；]{0,20}批准",
        r"报[^。；]{0,40}(?:审批|批准)", r"(?:审批|许可)程序", r"取得[^。；]{0,10}许可",
        r"autorizaci[óo]n previa (?:de|del|por)", r"autorisation préalable (?:de|du|par)",
        r"autoriza[çc][ãa]o prévia (?:d|pel)", r"vorherige(?:n)? genehmigung (?:der|durch)",
        r"(?:with|without) the (?:prior )?(?:approval|authori[sz]ation|consent) of the (?:competent |relevant )?(?:authorit|minist|government|regulator)",
        r"sin autorizaci[óo]n previa", r"sans autorisation préalable", r"sem autoriza[çc][ãa]o prévia",
        r"(?:許可|承認)を(?:受け|得)", r"(?:허가|승인)을 받", r"(?:được|phải được)[^.;]{0,30}(?:cho phép|chấp thuận|phê duyệt)",
        r"(?:разрешени|согласовани)\w+ (?:уполномоченного|федерального) органа",
        r"(?:izin|persetujuan) (?:dari )?(?:menteri|pemerintah|lembaga)", r"(?:موافقة|ترخيص) (?:مسبق|الهيئة|الجهة المختصة)",
    )),
    Indicator("named-country-ban", RESTRICTIVE, RECEPTION, 3.0, (
        r"countr(?:y|ies) of concern", r"foreign adversar",
        r"(?:prohibit|ban|bar)\w* (?:the )?(?:transfer|transaction|access|sale)\w*[^.;]{0,80}(?:countr|entit|person)",
        r"(?:listed|designated|blacklist)\w* (?:countr|jurisdiction)", r"\bblacklist\b",
        r"限制或者禁止[^。；]{0,20}(?:提供|清单)", r"禁止[^。；]{0,10}提供清单", r"列入[^。；]{0,20}(?:限制|禁止)[^。；]{0,10}清单",
        r"proh[ií]b\w+ (?:la |las )?transferencias?[^.;]{0,60}(?:país|entidad)",
        r"interdi\w+ (?:les |des )?transferts?[^.;]{0,60}(?:pays|entité)",
        r"proib\w+ (?:a |as )?transferências?[^.;]{0,60}(?:país|entidade)",
        r"interdi\w+[^.;]{0,20}transferts?[^.;]{0,60}pays", r"proh[ií]b\w+[^.;]{0,20}transferencias?[^.;]{0,60}países",
        r"(?:untersagt|verboten)[^.;]{0,60}(?:staat|land|länder)",
        r"(?:staaten|ländern?)\b[^.;]{0,80}(?:untersagt|verboten)",
        r"(?:restrict|prohibit)\w* (?:the )?transfer of (?:personal )?data[^.;]{0,100}(?:such |any )?(?:country|countries|territor)",
        r"特定の(?:国|外国)への(?:提供|移転)を禁止", r"특정\s?국가[^.;]{0,30}(?:이전|제공)[^.;]{0,20}(?:금지|제한)",
        r"cấm chuyển[^.;]{0,60}(?:quốc gia|nước)",
        r"запрет\w*[^.;]{0,40}передач\w+[^.;]{0,60}(?:государств|стран)",
        r"larangan[^.;]{0,40}transfer[^.;]{0,60}negara", r"حظر نقل[^.؛]{0,60}(?:دول|جهات)",
    ), self_contextual=True),
    Indicator("important-data-category", RESTRICTIVE, EXCHANGE, 1.0, (
        r"important data", r"core data", r"重要数据", r"核心数据",
    ), near_context=True),
    Indicator("category-ban-or-discretion", RESTRICTIVE, EXCHANGE, 2.0, (
        r"(?:order|require|direct)\w* (?:the )?(?:suspension|cessation|stop)\w* (?:of )?(?:the |any |all )?(?:transfer|provision)",
        r"ordonner la (?:cessation|suspension) de (?:tout )?transfert", r"ordenar la (?:suspensi[óo]n|cesaci[óo]n) de (?:toda |cualquier )?transferencia",
        r"determinar a (?:suspensão|cessação) de (?:qualquer )?transferência", r"einstellung (?:jeder |der |aller )?datenübermittlung",
        r"(?:export|transfer)\w* of (?:core|important) data[^.;]{0,30}(?:is |are )?prohibited",
        r"(?:may|shall) not be transferred (?:abroad|outside)",
        r"不得(?:向境外|出境)", r"停止(?:向境外)?提供",
        r"no (?:podrán|podrá) (?:ser )?transferid\w+ (?:al extranjero|fuera)",
        r"ne (?:peuvent|peut) (?:pas )?être transférée?s? (?:à l'étranger|hors)",
        r"não (?:poderão|poderá|podem) ser transferid\w+ para o exterior",
        r"dürfen nicht ins ausland übermittelt",
        r"국외\s?이전[^.;]{0,20}중지", r"이전을 중지", r"ngừng chuyển", r"запретить или ограничить трансграничную передачу",
        r"ограничени\w+ или запрещени\w+ трансграничной", r"penghentian transfer", r"وقف نقل",
    ), near_context=True),
    Indicator("foreign-authority-block", RESTRICTIVE, RECEPTION, 2.0, (
        r"(?:shall|may) not (?:provide|disclose|transfer)[^.;]{0,60}(?:foreign|overseas) (?:judicial|law enforcement|court|authorit)",
        r"不得向外国司法或者执法机构提供", r"向外国司法或者执法机构提供",
    )),
    # ---------------------------------------------------------------- prudent
    Indicator("adequacy-whitelist", PRUDENT, EXCHANGE, 2.0, (
        r"adequacy decision", r"adequate level of (?:data )?protection", r"ensures? an adequate level",
        r"(?:level of|equivalent) protection (?:that is )?(?:essentially )?equivalent", r"white ?list",
        r"(?:list of )?(?:approved|adequate) (?:countries|jurisdictions)", r"appropriate level of protection",
        r"adequate (?:data )?protection", r"comparable (?:level|standard) of protection", r"substantially similar (?:way|manner|protection|level)",
        r"(?:standard|level) of protection[^.;]{0,60}\bcomparable\b",
        r"nivel(?:es)? (?:de protección )?adecuad", r"niveles? de protecci[óo]n adecuad", r"decisi[óo]n de adecuaci[óo]n",
        r"protecci[óo]n adecuad", r"niveau de protection adéquat", r"décision d'adéquation",
        r"nível (?:de proteção )?adequado", r"decisão de adequação", r"grau de proteção[^.;]{0,40}adequado",
        r"nível de proteção de dados do país estrangeiro",
        r"angemessene[sn]? (?:datenschutz|schutz)niveau", r"angemessenheitsbeschluss", r"angemessenen schutz",
        r"gleichwertigen schutz",
        r"认定[^。；]{0,20}(?:保护水平|充分)", r"白名单",
        r"我が国と同等の水準", r"同等の水準にある", r"실질적으로 동등한 수준", r"동등한 수준",
        r"(?:mức độ|mức) bảo vệ[^.;]{0,30}(?:tương đương|tương đồng)",
        r"адекватн\w+ защит", r"обеспечивающих адекватную",
        r"(?:setara|lebih tinggi)[^.;]{0,40}pelindungan data", r"pelindungan data pribadi yang setara",
        r"مستوى (?:مناسب|كاف|ملائم)[^.؛]{0,20}(?:حماية|الحماية)", r"الحد الأدنى من (?:مستوى )?الحماية",
    ), route=True),
    Indicator("standard-contract", PRUDENT, EXCHANGE, 2.0, (
        r"standard (?:data protection |contractual )?(?:contractual )?clauses", r"standard contract",
        r"model (?:contractual )?clauses", r"contractual clauses", r"model contract",
        r"标准合同", r"cláusulas (?:contractuales )?(?:tipo|estándar|modelo|apropiadas)", r"contrato tipo",
        r"clauses contractuelles types", r"cláusulas contratuais (?:padrão|-padrão|modelo)", r"cláusulas-padrão contratuais",
        r"cláusulas contratuais específicas",
        r"standard(?:vertrags|datenschutz)klauseln", r"vertragsklauseln",
        r"標準契約", r"표준\s?계약", r"hợp đồng mẫu", r"điều khoản hợp đồng",
        r"стандартн\w+ договорн", r"klausul kontrak standar", r"(?:البنود|الشروط) التعاقدية (?:القياسية|النموذجية)",
    ), route=True),
    Indicator("binding-corporate-rules", PRUDENT, EXCHANGE, 2.0, (
        r"binding corporate rules", r"intra-?group (?:agreement|scheme)",
        r"normas corporativas (?:vinculantes|globais)", r"règles d'entreprise contraignantes",
        r"verbindliche(?:n)? (?:interne(?:n)? datenschutzvorschriften|unternehmensinterne)", r"集团内部[^。；]{0,10}(?:规则|协议)",
        r"拘束的企業準則", r"구속력 있는 기업\s?규칙", r"quy tắc ràng buộc doanh nghiệp",
        r"обязательн\w+ корпоративн\w+ правил", r"aturan perusahaan yang mengikat", r"قواعد (?:الشركات|مؤسسية) ملزمة",
    ), route=True),
    Indicator("certification", PRUDENT, EXCHANGE, 1.5, (
        r"certification (?:mechanism|scheme|by|body)", r"approved certification", r"\bcertified\b",
        r"codes? of conduct", r"个人信息保护认证", r"专业机构进行[^。；]{0,10}认证",
        r"certificaci[óo]n (?:de|en) (?:protecci|privacidad|datos)", r"certification (?:de|en matière de) (?:protection|données)",
        r"certificação (?:de|em) (?:proteção|privacidade|dados)", r"selos", r"datenschutz-?zertifizierung",
        r"zertifizierungsverfahren", r"認証を(?:受け|取得)", r"인증을 받", r"chứng nhận (?:bảo vệ )?dữ liệu",
        r"сертификац\w+ (?:в области )?(?:защиты )?(?:персональных )?данных", r"sertifikasi (?:pelindungan )?data",
        r"شهادة (?:اعتماد|حماية)",
    ), route=True),
    Indicator("consent", PRUDENT, EXCHANGE, 1.0, (
        r"explicit(?:ly)? consent", r"consented to the (?:proposed )?transfer", r"informed consent",
        r"单独同意", r"consentimiento (?:expreso|explícito|específico|inequívoc)", r"consentido inequívocamente",
        r"dado su consentimiento", r"consentement (?:explicite|exprès)",
        r"consentimento (?:específico|expresso)", r"ausdrücklich eingewilligt", r"ausdrückliche einwilligung",
        r"本人の同意を得", r"(?:별도의|별도로) 동의", r"sự đồng ý của chủ thể", r"согласи\w+ (?:в письменной форме )?субъекта",
        r"persetujuan subjek data", r"موافقة صريحة", r"موافقة صاحب البيانات",
    ), route=True),
    Indicator("derogations-exemptions", PRUDENT, EXCHANGE, 1.5, (
        r"derogations?", r"\bexempt(?:ed|ion|ions)?\b", r"(?:is|are) not required to",
        r"threshold", r"fewer than [\d,]+", r"less than [\d,]+ (?:individuals|persons|data subjects)",
        r"免予申报", r"无需申报", r"豁免", r"不满[\d一二三四五六七八九十百千万]+", r"可以不",
        r"excepciones", r"exenci[óo]n", r"no regir[áa]", r"sin el consentimiento[^.;]{0,40}cuando",
        r"(?:en|a) (?:los|alguno de los) (?:siguientes )?supuestos", r"dérogations?", r"exemption", r"exceções", r"isenç",
        r"ausnahmen?", r"befreiung", r"abweichend",
        r"適用しない", r"예외", r"miễn trừ", r"исключени", r"pengecualian", r"استثناء",
    ), route=True, qualifier=True),
    Indicator("risk-assessment", PRUDENT, EXCHANGE, 1.5, (
        r"(?:risk|impact|transfer impact|privacy impact) assessment", r"assess\w* the (?:level of protection|risks?)",
        r"个人信息保护影响评估", r"风险(?:自)?评估", r"evaluaci[óo]n de (?:impacto|riesgos?)",
        r"analyse d'impact", r"évaluation (?:des risques|d'impact)", r"avaliação de (?:impacto|riscos?)",
        r"relatório de impacto", r"folgenabschätzung", r"risikobewertung",
        r"影響評価", r"영향\s?평가", r"đánh giá tác động", r"оценк\w+ (?:риск|вреда|воздействия)",
        r"penilaian (?:dampak|risiko)", r"تقييم (?:المخاطر|الأثر)",
    ), route=True),
    Indicator("appropriate-safeguards", PRUDENT, EXCHANGE, 2.0, (
        r"appropriate safeguards", r"adequate safeguards", r"sufficient (?:safeguards|guarantees)",
        r"garantías (?:adecuadas|suficientes)", r"garanties appropriées",
        r"garantias (?:adequadas|apropriadas|de cumprimento)", r"geeignete(?:n)? garantien", r"ausreichende garantien",
        r"达到[^。；]{0,20}个人信息保护标准", r"保障境外接收方",
        r"基準に適合する体制", r"相当措置", r"보호조치", r"biện pháp bảo vệ",
        r"надлежащ\w+ (?:гаранти|мер)", r"pelindungan data pribadi yang memadai", r"memadai dan bersifat mengikat",
        r"ضمانات (?:مناسبة|كافية)",
    ), route=True),
    Indicator("export-category-list", PRUDENT, EXCHANGE, 2.0, (
        r"负面清单", r"negative list", r"lista negativa", r"liste négative", r"lista negativa", r"ネガティブリスト",
    ), route=True, near_context=True),
    Indicator("onward-transfer-conditions", PRUDENT, RECEPTION, 1.0, (
        r"onward transfers?", r"subsequent transfer", r"再向(?:境外)?第三方提供",
        r"transferencias? ulteriores?", r"transferts? ultérieurs?", r"transferências? posteriores?",
        r"weiterübermittlung", r"(?:receptor|destinatario) asumirá las mismas obligaciones",
        r"再提供", r"재이전", r"передач\w+ третьим лицам",
    )),
    Indicator("recipient-notice-and-rights", PRUDENT, RECEPTION, 1.0, (
        r"(?:name|identity) (?:and contact details )?of the (?:overseas |foreign )?recipient",
        r"境外接收方的名称", r"境外接收方", r"aviso de privacidad",
        r"外国の名称", r"이전되는 국가", r"이전받는 자",
    )),
    Indicator("public-policy-exception", PRUDENT, EXCHANGE, 1.5, (
        r"legitimate public policy objective", r"essential security interests",
        r"instruments enabling transfers under conditions", r"conditions of general application",
        r"objetivo legítimo de política pública", r"objectif légitime de politique publique",
        r"objetivo legítimo de política pública", r"legitimen gemeinwohlziel",
    ), qualifier=True),
    Indicator("third-country-access-safeguard", PRUDENT, RECEPTION, 2.0, (
        r"(?:third[- ]country|foreign) (?:governmental |government )?access",
        r"international (?:governmental )?access and transfer",
        r"(?:prevent|guard against)[^.;]{0,60}(?:access|transfer)[^.;]{0,80}(?:conflict|union law)",
    )),
    # ---------------------------------------------------------------- facilitation
    Indicator("free-flow-commitment", FACILITATION, EXCHANGE, 3.0, (
        r"shall (?:allow|permit) the cross-border transfer of (?:information|data)",
        r"shall (?:allow|permit)[^.;]{0,60}(?:cross-border|transborder) (?:transfer|flow)",
        r"shall (?:allow|permit)[^.;]{0,80}transmi\w+[^.;]{0,60}(?:across (?:its )?borders|(?:from|to|into|out of)"
        r"[^.;]{0,12}(?:its|their|the) territor)",
        r"(?:barriers|restrictions) to (?:electronic )?information flows across borders",
        r"(?:free|unrestricted|uninterrupted) flows? of (?:data|information|personal data)",
        r"(?:maintain|facilitate) cross-border flows? of (?:data|information)",
        r"data free flow with trust", r"\bdfft\b", r"flow freely",
        r"shall not (?:prohibit|restrict) (?:the )?cross-border (?:transfer|flow)",
        r"(?:data|information) flows?[^.;]{0,50}shall not be (?:restricted|prohibited)",
        r"(?:neither|no) (?:party|member) (?:shall|may) (?:prohibit|restrict)[^.;]{0,30}cross-border (?:transfer|flow)",
        r"flux de données transfrontaliers ne sont pas restreints",
        r"数据(?:跨境)?自由流动", r"允许[^。；]{0,20}跨境(?:传输|流动)", r"应当允许[^。；]{0,30}(?:跨境|跨越边境)[^。；]{0,10}(?:传输|转移|流动)",
        r"libre (?:flujo|circulación) (?:transfronteriz[oa] )?de (?:datos|información)", r"permitir[áa] la transferencia transfronteriza",
        r"permitir[áa]n?[^.;]{0,80}(?:transfer|transmi|flujo)\w*[^.;]{0,60}(?:transfronteriz|fuera de su territorio|"
        r"a través de (?:las )?fronteras|desde su territorio)",
        r"libre circulation des données", r"libre flux de données", r"autorise(?:ra)? le transfert transfrontière",
        r"livre (?:fluxo|circulação) de (?:dados|informações)", r"permitirá a transferência transfronteiriça",
        r"freie[nr]? (?:daten(?:verkehr|fluss|austausch))", r"freien datenverkehr",
        r"(?:nicht|keine)[^.;]{0,40}(?:verbieten|untersagen|besonderen genehmigung)[^.;]{0,60}(?:übermittlung|datenverkehr)",
        r"(?:übermittlung|datenverkehr)[^.;]{0,100}(?:nicht (?:verbieten|untersagen)|keiner besonderen genehmigung)",
        r"(?:データ|情報)の自由な流通", r"자유로운\s?(?:이동|흐름|이전)", r"lưu chuyển tự do", r"свободн\w+ (?:поток|передач)",
        r"aliran data bebas", r"التدفق الحر",
    ), self_contextual=True),
    Indicator("ban-on-localisation", FACILITATION, POSSESSION, 3.0, (
        r"(?:no|neither) (?:party|member|side) (?:shall|may) require[^.;]{0,80}(?:use or locate|locate|computing facilities|"
        r"localis|locali[sz]ation|store)",
        r"(?:shall|may) not require[^.;]{0,80}(?:computing facilities|locali[sz]|stor(?:e|age)[^.;]{0,40}(?:territory|locally|area))",
        r"(?:shall not|not to) impose (?:any )?data locali[sz]ation",
        r"(?:prohibit|ban)\w*[^.;]{0,30}data locali[sz]ation (?:requirements|measures)",
        r"不得要求[^。；]{0,40}(?:境内|本地|计算设施|领土内)", r"不以[^。；]{0,20}本地化", r"不得以[^。；]{0,20}本地化",
        r"ninguna parte (?:exigirá|podrá exigir)[^.;]{0,80}(?:instalaciones informáticas|localiz|almacen)",
        r"aucune partie n'(?:exige|exigera|impose)[^.;]{0,80}(?:installations informatiques|localis|stock)",
        r"ninguna parte podrá exigir el almacenamiento", r"nenhuma parte poderá exigir o armazenamento",
        r"nenhuma parte (?:exigirá|poderá exigir)[^.;]{0,80}(?:instalações computacionais|localiz|armazen)",
        r"keine vertragspartei (?:darf|verlangt)[^.;]{0,80}(?:rechenanlagen|lokalisier|speicher)",
        r"(?:shall not|neither party shall|no party shall) condition[^.;]{0,60}(?:storage|locat|computing facilities)",
        r"refrain from (?:imposing|requiring)[^.;]{0,80}(?:locali|locally|computing facilities)",
        r"不将[^。；]{0,20}本地化", r"no impondr[áa]n? (?:requisitos de )?localizaci[óo]n",
        r"s'abstiennent d'imposer (?:la )?localisation", r"não imporão (?:requisitos de )?localização",
        r"verzichten auf (?:daten)?lokalisierung",
        r"コンピュータ関連設備[^。]{0,40}要求してはならない", r"컴퓨팅 설비[^.;]{0,60}요구(?:하여서는|해서는) 아니",
    ), self_contextual=True),
    Indicator("cross-border-privacy-rules", FACILITATION, EXCHANGE, 2.0, (
        r"cross-border privacy rules", r"\bcbpr\b", r"global cbpr", r"privacy recognition for processors",
        r"跨境隐私规则", r"reglas de privacidad transfronteriza", r"règles de confidentialité transfrontalières",
        r"regras de privacidade transfronteiriça", r"越境プライバシー", r"국경 간 프라이버시",
    ), self_contextual=True),
    Indicator("mutual-recognition-interoperability", FACILITATION, EXCHANGE, 2.0, (
        r"mutual recognition", r"interoperab\w+", r"recognition of regulatory outcomes",
        r"compatibility between (?:these )?(?:different )?(?:regimes|frameworks)", r"互认", r"互操作", r"reconocimiento mutuo",
        r"interoperabilidad", r"reconnaissance mutuelle", r"interopérabilité", r"reconhecimento mútuo",
        r"interoperabilidade", r"gegenseitige(?:n)? anerkennung", r"interoperabilität",
        r"相互運用", r"상호\s?운용", r"상호\s?인정", r"công nhận lẫn nhau", r"взаимн\w+ признани", r"saling pengakuan",
    ), near_context=True),
    Indicator("accountability-framework", FACILITATION, RECEPTION, 1.5, (
        r"accountability (?:principle|framework|model|approach|agent)", r"remains? (?:fully )?(?:accountable|responsible)",
        r"(?:is|shall be) responsible for (?:any )?personal (?:data|information)[^.;]{0,80}(?:transferred|under its control)",
        r"问责", r"principio de responsabilidad proactiva", r"principe de responsabilité",
        r"responsabilização", r"rechenschaftspflicht",
    )),
    Indicator("trusted-government-access", FACILITATION, RECEPTION, 1.5, (
        r"(?:trusted )?government access to (?:personal )?data held by (?:the )?private sector",
        r"declaration on government access", r"necessary and proportionate",
    )),
)

INDICATOR_BY_ID = {indicator.id: indicator for indicator in INDICATORS}
# Localisation confined to these categories is narrow: a menu of routes for the rest keeps the
# instrument prudent.
NARROW_SCOPE = (
    r"critical information infrastructure", r"state organs?", r"government agenc", r"public sector",
    r"health record", r"payment", r"financial institution", r"国家机关", r"关键信息基础设施", r"达到国家网信部门规定数量",
    r"infraestructura crítica", r"infrastructure critique", r"infraestrutura crítica",
    r"kritische(?:n)? infrastruktur", r"重要情報インフラ", r"주요정보통신기반시설", r"hạ tầng thông tin quan trọng",
    r"критическ\w+ информационн", r"infrastruktur informasi vital", r"البنية التحتية الحرجة",
)
# A rule that only points to rules made elsewhere ("按照国家有关规定…安全评估"): it sets nothing itself.
REFERRALS = (
    r"(?:依照|按照|根据|遵守|符合)(?:法律、行政法规(?:和|及|以及)?)?(?:国家)?(?:有关|相关)规定",
    r"(?:as|where) (?:prescribed|provided|required) (?:by|under) (?:the )?(?:relevant|applicable) (?:national )?"
    r"(?:laws?|provisions|regulations|rules)",
    r"in accordance with (?:the )?(?:relevant|applicable) (?:national )?(?:provisions|regulations|rules) of the state",
)
# A prohibition on countries that lack adequate protection is an adequacy rule, not a country ban.
ADEQUACY_CONDITION = (
    r"(?:not|no|without|lack\w*|fail\w*)[^.;]{0,40}(?:adequate|equivalent|comparable)",
    r"que no (?:pro(?:p|)orcionen|garantic|aseguren)", r"sin (?:un )?nivel", r"nicht (?:angemessen|gleichwertig)",
    r"不具备[^。；]{0,10}保护",
)


@dataclass(frozen=True)
class Cue(PatternSet):
    """Wording that changes how a sentence's indicators count."""

    name: str
    patterns: tuple[str, ...]


CONTEXT_CUE = Cue("context", TRANSFER_CONTEXT)
NEGATOR_CUE = Cue("negator", NEGATORS)
EXCEPTION_CUE = Cue("exception", EXCEPTIONS)
SOFT_CUE = Cue("soft", SOFT)
NARROW_CUE = Cue("narrow", NARROW_SCOPE)
ADEQUACY_CUE = Cue("adequacy-condition", ADEQUACY_CONDITION)
REFERRAL_CUE = Cue("referral", REFERRALS)
CUES = (CONTEXT_CUE, NEGATOR_CUE, EXCEPTION_CUE, SOFT_CUE, NARROW_CUE, ADEQUACY_CUE, REFERRAL_CUE)
