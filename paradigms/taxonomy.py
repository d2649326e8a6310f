"""The three paradigms of cross-border data-flow policy, the three dimensions along which
policies differ, and the indicators that show each, in six languages.

Paradigms and dimensions follow the World Internet Conference's comparative study (April 2025):
Framework-based Facilitation, Prudent and Flexible, Restrictive; data possession (where data must
stay), exchange (how it may leave), reception (conditions on recipients, onward transfer,
government access). Indicators are regular expressions, written in lower case and matched
against the lower-cased text (four times faster than case-insensitive matching); negated forms
("no Party shall require…", "不得要求…") are indicators of their own, and a negator just before
a restrictive phrase cancels it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from texts.vocabulary import FACILITATION, PRUDENT, RESTRICTIVE

POSSESSION, EXCHANGE, RECEPTION = "possession", "exchange", "reception"

_FLAGS = re.UNICODE  # patterns are lower case; texts are lower-cased by `lower_same_length`


def lower_same_length(text: str) -> str:
    """Lower case, keeping every offset (a few characters grow when lower-cased, e.g. 'İ')."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


@dataclass(frozen=True)
class Indicator:
    """One kind of evidence for one paradigm along one dimension."""

    id: str
    paradigm: str
    dimension: str
    weight: float
    patterns: tuple[str, ...]
    needs_context: bool = False  # only counts in a provision that speaks of cross-border transfer
    route: bool = False          # one of the menu of transfer routes (prudent)
    negatable: bool = False      # cancelled by a negator just before it

    @property
    def regex(self) -> re.Pattern[str]:
        return _compiled(self.id, self.patterns)


_CACHE: dict[str, re.Pattern[str]] = {}


def _compiled(key: str, patterns: tuple[str, ...]) -> re.Pattern[str]:
    if key not in _CACHE:
        _CACHE[key] = re.compile("|".join(f"(?:{p})" for p in patterns), _FLAGS)
    return _CACHE[key]


# Does a provision speak of data leaving the jurisdiction at all?
TRANSFER_CONTEXT = (
    r"(?:cross[- ]border|transborder|international) (?:data|transfers?|flows?|(?:transfer|flow|provision|"
    r"disclosure) of|information|personal|privacy)", r"third countr", r"international organi[sz]ation",
    r"outside (?:of )?(?:the )?(?:territory|country|kingdom|union|jurisdiction|\w+'s territory)",
    r"\babroad\b", r"overseas", r"al extranjero", r"el extranjero", r"à l'étranger", r"para o exterior",
    r"no exterior", r"ins ausland", r"im ausland", r"outside (?:india|china|the federation)", r"foreign (?:countr|recipient|jurisdiction)",
    r"countries of concern", r"transfer\w* (?:of )?(?:personal )?(?:data|information) (?:to|outside)",
    r"international (?:data )?transfer", r"data locali[sz]ation", r"computing facilities",
    r"(?:free )?flows? of (?:data|information)", r"data flows?",
    r"向境外提供", r"境外接收方", r"出境", r"数据跨境", r"跨境(?:传输|流动|提供|数据)", r"数据流动",
    r"境外(?:存储|传输|提供)",
    r"transferencias? internacional", r"transfronteriz", r"terceros? países?", r"país tercero",
    r"fuera del territorio", r"flujos? (?:transfronterizos? )?de datos",
    r"transferts? (?:de données )?(?:vers|hors)", r"pays tiers?", r"transfrontali", r"flux de données",
    r"transferências? internaciona", r"transfronteiri", r"país(?:es)? estrangeiro", r"fluxos? de dados",
    r"terceiros? países", r"drittl(?:and|ändern?)", r"grenzüberschreitend", r"ins ausland",
    r"datenfl(?:uss|üsse)", r"internationale(?:n)? organisation",
)
_CONTEXT = re.compile("|".join(f"(?:{p})" for p in TRANSFER_CONTEXT), _FLAGS)

NEGATORS = re.compile(
    r"(?:\bno (?:party|member|state|person)\b[^.;]{0,60}\b(?:shall|may)\b|\bshall not\b|\bmay not\b|"
    r"\bdoes not\b|\bdo not\b|\bwill not\b|\bnot (?:to )?(?:impose|authori[sz]e|introduce)\b|"
    r"\bmust not\b|\bnot be required\b|\bneither\b|\bnor\b|\bwithout (?:the )?need\b|不得要求|无需|"
    r"不需要|免予|ninguna parte|no (?:podrá|exigirá|deberá)|aucune partie|ne (?:peut|doit|pourra)|"
    r"nenhuma parte|não (?:poderá|exigirá|deverá)|keine vertragspartei|darf nicht|nicht verlangen)",
    _FLAGS)
EXCEPTIONS = re.compile(
    r"(?:\bexcept\b|\bunless\b|\bprovided that\b|\bnothing in this (?:article|chapter|section)\b|"
    r"legitimate public policy|除外|但是|salvo|excepto|sauf|à moins que|exceto|a menos que|"
    r"es sei denn|ausgenommen)", _FLAGS)


def context_hits(lowered: str) -> int:
    """How often a (lower-cased) text speaks of data leaving the jurisdiction."""
    return len(_CONTEXT.findall(lowered))


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
        r"(?:conservar|almacenar|alojar|mantener)[^.;]{0,80}(?:ubicad|situad|localizad)\w* en el territorio",
        r"(?:manter|armazenar|conservar)[^.;]{0,80}(?:localizad|situad)\w* no território",
        r"(?:héberg|stock|conserv)\w*[^.;]{0,60}sur le territoire(?: national)?",
        r"应当(?:在|于)(?:中华人民共和国)?境内存储", r"在(?:中华人民共和国)?境内存储", r"本地化存储",
        r"deber[áa]n? (?:ser )?(?:almacenad|conservad|alojad)\w*\s+(?:únicamente\s+)?en (?:el )?territorio",
        r"almacenamiento local obligatorio",
        r"doivent être (?:stockées|hébergées|conservées)\s+(?:exclusivement\s+)?(?:sur le territoire|en france|dans l'union)",
        r"(?:deverão|devem) ser (?:armazenad|mantid)\w+\s+(?:exclusivamente\s+)?(?:em|no) território",
        r"(?:müssen|sind)\s+(?:ausschließlich\s+)?im inland\s+(?:zu\s+)?(?:speicher|gespeichert|verarbeite)\w*",
    ), negatable=True),
    Indicator("government-security-assessment", RESTRICTIVE, EXCHANGE, 2.5, (
        r"security assessment (?:organi[sz]ed|conducted|carried out) by",
        r"(?:pass|passed|undergo|apply for|declare for)\w* (?:a |the )?(?:government |state |national )?security assessment",
        r"(?:国家网信部门组织的|数据出境)安全评估", r"申报(?:数据出境)?安全评估", r"通过安全评估",
        r"(?:境外|出境)[^。；]{0,60}(?:进行|通过)[^。；]{0,10}安全评估",
        r"evaluación de seguridad (?:realizada|organizada) por",
        r"évaluation de sécurité (?:menée|organisée) par",
        r"avaliação de segurança (?:realizada|organizada) pel",
        r"sicherheitsbewertung durch (?:die )?(?:staatlich|behörd)", r"staatliche(?:n)? sicherheitsbewertung",
        r"evaluaci[óo]n de seguridad realizada por el estado", r"évaluation de sécurité menée par l'état",
    ), negatable=True),
    Indicator("prior-approval", RESTRICTIVE, EXCHANGE, 2.5, (
        r"prior (?:written )?(?:authori[sz]ation|approval|permission|licen[cs]e) (?:of|from|by) the (?:competent |relevant )?(?:authorit|minist|government|agency|regulator)",
        r"(?:approval|authori[sz]ation|licen[cs]e) (?:of|from|by) the (?:competent |relevant )?(?:authorit|minist|government)\w*\s+(?:before|prior to)",
        r"(?:shall|must) (?:first )?obtain (?:the )?(?:approval|authori[sz]ation|permission) (?:of|from) the",
        r"经(?:主管部门|国家网信部门|有关主管机关)?批准", r"非经[^，。；]{0,20}批准",
        r"autorizaci[óo]n previa (?:de|del|por)", r"autorisation préalable (?:de|du|par)",
        r"autoriza[çc][ãa]o prévia (?:d|pel)", r"vorherige(?:n)? genehmigung (?:der|durch)",
        r"(?:with|without) the (?:prior )?(?:approval|authori[sz]ation|consent) of the (?:competent |relevant )?(?:authorit|minist|government|regulator)",
        r"sin autorizaci[óo]n previa", r"sans autorisation préalable", r"sem autoriza[çc][ãa]o prévia",
        r"未经[^，。；]{0,20}批准",
    ), needs_context=True),
    Indicator("named-country-ban", RESTRICTIVE, RECEPTION, 3.0, (
        r"countr(?:y|ies) of concern", r"foreign adversar",
        r"(?:prohibit|ban|bar)\w* (?:the )?(?:transfer|transaction|access|sale)\w*[^.;]{0,80}(?:countr|entit|person)",
        r"(?:listed|designated|blacklist)\w* (?:countr|jurisdiction)", r"\bblacklist\b",
        r"限制或者禁止[^。；]{0,20}(?:提供|清单)", r"禁止[^。；]{0,10}提供清单", r"列入[^。；]{0,20}清单",
        r"proh[ií]b\w+ (?:la |las )?transferencias?[^.;]{0,60}(?:país|entidad)",
        r"interdi\w+ (?:les |des )?transferts?[^.;]{0,60}(?:pays|entité)",
        r"proib\w+ (?:a |as )?transferências?[^.;]{0,60}(?:país|entidade)",
        r"interdi\w+[^.;]{0,20}transferts?[^.;]{0,60}pays", r"proh[ií]b\w+[^.;]{0,20}transferencias?[^.;]{0,60}países",
        r"(?:untersagt|verboten)[^.;]{0,60}(?:staat|land|länder)",
        r"(?:staaten|ländern?)\b[^.;]{0,80}(?:untersagt|verboten)",
        r"(?:restrict|prohibit)\w* (?:the )?transfer of (?:personal )?data[^.;]{0,100}(?:such |any )?(?:country|countries|territor)",
    )),
    Indicator("category-ban-or-discretion", RESTRICTIVE, EXCHANGE, 2.0, (
        r"important data", r"core data",
        r"(?:order|require|direct)\w* (?:the )?(?:suspension|cessation|stop)\w* (?:of )?(?:the |any |all )?(?:transfer|provision)",
        r"ordonner la (?:cessation|suspension) de (?:tout )?transfert", r"ordenar la (?:suspensi[óo]n|cesaci[óo]n) de (?:toda |cualquier )?transferencia",
        r"determinar a (?:suspensão|cessação) de (?:qualquer )?transferência", r"einstellung (?:jeder |der |aller )?datenübermittlung",
        r"(?:export|transfer)\w* of (?:core|important) data[^.;]{0,30}(?:is |are )?prohibited",
        r"(?:may|shall) not be transferred (?:abroad|outside)",
        r"不得(?:向境外|出境)", r"停止(?:向境外)?提供", r"重要数据", r"核心数据",
        r"no (?:podrán|podrá) (?:ser )?transferid\w+ (?:al extranjero|fuera)",
        r"ne (?:peuvent|peut) (?:pas )?être transférée?s? (?:à l'étranger|hors)",
        r"não (?:poderão|poderá|podem) ser transferid\w+ para o exterior",
        r"dürfen nicht ins ausland übermittelt",
    ), needs_context=True),
    Indicator("foreign-authority-block", RESTRICTIVE, RECEPTION, 2.0, (
        r"(?:shall|may) not (?:provide|disclose|transfer)[^.;]{0,60}(?:foreign|overseas) (?:judicial|law enforcement|court|authorit)",
        r"不得向外国司法或者执法机构提供", r"向外国司法或者执法机构提供",
    )),
    # ---------------------------------------------------------------- prudent
    Indicator("adequacy-whitelist", PRUDENT, EXCHANGE, 2.0, (
        r"adequacy decision", r"adequate level of (?:data )?protection", r"ensures? an adequate level",
        r"(?:level of|equivalent) protection (?:that is )?(?:essentially )?equivalent", r"white ?list",
        r"(?:list of )?(?:approved|adequate) (?:countries|jurisdictions)", r"appropriate level of protection",
        r"nivel (?:de protección )?adecuado", r"decisi[óo]n de adecuaci[óo]n",
        r"niveau de protection adéquat", r"décision d'adéquation",
        r"nível (?:de proteção )?adequado", r"decisão de adequação",
        r"angemessene[sn]? (?:datenschutz|schutz)niveau", r"angemessenheitsbeschluss",
        r"认定[^。；]{0,20}(?:保护水平|充分)", r"白名单",
    ), route=True),
    Indicator("standard-contract", PRUDENT, EXCHANGE, 2.0, (
        r"standard (?:data protection |contractual )?(?:contractual )?clauses", r"standard contract",
        r"model (?:contractual )?clauses", r"contractual clauses",
        r"标准合同", r"cláusulas (?:contractuales )?(?:tipo|estándar|modelo)", r"contrato tipo",
        r"clauses contractuelles types", r"cláusulas contratuais (?:padrão|-padrão|modelo)",
        r"standard(?:vertrags|datenschutz)klauseln",
    ), route=True),
    Indicator("binding-corporate-rules", PRUDENT, EXCHANGE, 2.0, (
        r"binding corporate rules", r"intra-?group (?:agreement|scheme)",
        r"normas corporativas (?:vinculantes|globais)", r"règles d'entreprise contraignantes",
        r"verbindliche(?:n)? interne(?:n)? datenschutzvorschriften", r"集团内部[^。；]{0,10}(?:规则|协议)",
    ), route=True),
    Indicator("certification", PRUDENT, EXCHANGE, 1.5, (
        r"certification (?:mechanism|scheme|by|body)", r"approved certification", r"\bcertified\b",
        r"codes? of conduct", r"个人信息保护认证", r"专业机构进行[^。；]{0,10}认证",
        r"certificaci[óo]n", r"certification", r"certificação", r"selos", r"zertifizierung",
    ), needs_context=True, route=True),
    Indicator("consent", PRUDENT, EXCHANGE, 1.0, (
        r"explicit(?:ly)? consent", r"consented to the (?:proposed )?transfer", r"informed consent",
        r"单独同意", r"consentimiento (?:expreso|explícito|específico)", r"consentement (?:explicite|exprès)",
        r"consentimento (?:específico|expresso)", r"ausdrücklich eingewilligt", r"ausdrückliche einwilligung",
    ), needs_context=True, route=True),
    Indicator("derogations-exemptions", PRUDENT, EXCHANGE, 1.5, (
        r"derogations?", r"\bexempt(?:ed|ion|ions)?\b", r"(?:is|are) not required to",
        r"threshold", r"fewer than [\d,]+", r"less than [\d,]+ (?:individuals|persons|data subjects)",
        r"免予申报", r"无需申报", r"豁免", r"不满[\d一二三四五六七八九十百千万]+", r"可以不",
        r"excepciones", r"exenci[óo]n", r"dérogations?", r"exemption", r"exceções", r"isenç",
        r"ausnahmen?", r"befreiung",
    ), needs_context=True, route=True),
    Indicator("risk-assessment", PRUDENT, EXCHANGE, 1.5, (
        r"(?:risk|impact|transfer impact|privacy impact) assessment", r"assess\w* the (?:level of protection|risks?)",
        r"个人信息保护影响评估", r"风险(?:自)?评估", r"evaluaci[óo]n de (?:impacto|riesgos?)",
        r"analyse d'impact", r"évaluation (?:des risques|d'impact)", r"avaliação de (?:impacto|riscos?)",
        r"relatório de impacto", r"folgenabschätzung", r"risikobewertung",
    ), needs_context=True, route=True),
    Indicator("appropriate-safeguards", PRUDENT, EXCHANGE, 2.0, (
        r"appropriate safeguards", r"adequate safeguards", r"garantías adecuadas", r"garanties appropriées",
        r"garantias (?:adequadas|apropriadas)", r"geeignete(?:n)? garantien",
        r"达到[^。；]{0,20}个人信息保护标准", r"保障境外接收方",
    ), route=True),
    Indicator("onward-transfer-conditions", PRUDENT, RECEPTION, 1.0, (
        r"onward transfers?", r"subsequent transfer", r"再向(?:境外)?第三方提供",
        r"transferencias? ulteriores?", r"transferts? ultérieurs?", r"transferências? posteriores?",
        r"weiterübermittlung",
    )),
    Indicator("recipient-notice-and-rights", PRUDENT, RECEPTION, 1.0, (
        r"(?:name|identity) (?:and contact details )?of the (?:overseas |foreign )?recipient",
        r"境外接收方的名称", r"境外接收方",
    ), needs_context=True),
    Indicator("public-policy-exception", PRUDENT, EXCHANGE, 1.5, (
        r"legitimate public policy objective", r"essential security interests",
        r"instruments enabling transfers under conditions", r"conditions of general application",
        r"objetivo legítimo de política pública", r"objectif légitime de politique publique",
        r"objetivo legítimo de política pública", r"legitimen gemeinwohlziel",
    )),
    # ---------------------------------------------------------------- facilitation
    Indicator("free-flow-commitment", FACILITATION, EXCHANGE, 3.0, (
        r"shall (?:allow|permit) the cross-border transfer of (?:information|data)",
        r"(?:free|unrestricted|uninterrupted) flows? of (?:data|information|personal data)",
        r"data free flow with trust", r"\bdfft\b", r"flow freely",
        r"shall not (?:prohibit|restrict) (?:the )?cross-border (?:transfer|flow)",
        r"(?:neither|no) (?:party|member) (?:shall|may) (?:prohibit|restrict)[^.;]{0,30}cross-border (?:transfer|flow)",
        r"flux de données transfrontaliers ne sont pas restreints",
        r"数据(?:跨境)?自由流动", r"允许[^。；]{0,20}跨境(?:传输|流动)",
        r"libre (?:flujo|circulación) de (?:datos|información)", r"permitir[áa] la transferencia transfronteriza",
        r"libre circulation des données", r"libre flux de données", r"autorise(?:ra)? le transfert transfrontière",
        r"livre (?:fluxo|circulação) de (?:dados|informações)", r"permitirá a transferência transfronteiriça",
        r"freie[nr]? (?:daten(?:verkehr|fluss|austausch))", r"freien datenverkehr",
    )),
    Indicator("ban-on-localisation", FACILITATION, POSSESSION, 3.0, (
        r"no (?:party|member) (?:shall|may) require[^.;]{0,80}(?:use or locate|locate|computing facilities|localis|locali[sz]ation|store)",
        r"(?:shall|may) not require[^.;]{0,80}(?:computing facilities|locali[sz]|stor(?:e|age)[^.;]{0,40}(?:territory|locally))",
        r"(?:shall not|not to) impose (?:any )?data locali[sz]ation",
        r"(?:prohibit|ban)\w*[^.;]{0,30}data locali[sz]ation (?:requirements|measures)",
        r"不得要求[^。；]{0,40}(?:境内|本地|计算设施|领土内)", r"不以[^。；]{0,20}本地化", r"不得以[^。；]{0,20}本地化",
        r"ninguna parte (?:exigirá|podrá exigir)[^.;]{0,80}(?:instalaciones informáticas|localiz|almacen)",
        r"aucune partie n'(?:exige|exigera|impose)[^.;]{0,80}(?:installations informatiques|localis|stock)",
        r"ninguna parte podrá exigir el almacenamiento", r"nenhuma parte poderá exigir o armazenamento",
        r"nenhuma parte (?:exigirá|poderá exigir)[^.;]{0,80}(?:instalações computacionais|localiz|armazen)",
        r"keine vertragspartei (?:darf|verlangt)[^.;]{0,80}(?:rechenanlagen|lokalisier|speicher)",
    )),
    Indicator("cross-border-privacy-rules", FACILITATION, EXCHANGE, 3.0, (
        r"cross-border privacy rules", r"\bcbpr\b", r"global cbpr", r"privacy recognition for processors",
        r"跨境隐私规则", r"reglas de privacidad transfronteriza", r"règles de confidentialité transfrontalières",
        r"regras de privacidade transfronteiriça",
    )),
    Indicator("mutual-recognition-interoperability", FACILITATION, EXCHANGE, 2.0, (
        r"mutual recognition", r"interoperab\w+", r"recognition of regulatory outcomes",
        r"compatibility between (?:these )?(?:different )?(?:regimes|frameworks)", r"互认", r"互操作", r"reconocimiento mutuo",
        r"interoperabilidad", r"reconnaissance mutuelle", r"interopérabilité", r"reconhecimento mútuo",
        r"interoperabilidade", r"gegenseitige(?:n)? anerkennung", r"interoperabilität",
    ), needs_context=True),
    Indicator("accountability-framework", FACILITATION, RECEPTION, 1.0, (
        r"accountability (?:principle|framework|model|approach|agent)", r"remains? (?:fully )?accountable",
        r"问责", r"principio de responsabilidad proactiva", r"principe de responsabilité",
        r"responsabilização", r"rechenschaftspflicht",
    ), needs_context=True),
    Indicator("trusted-government-access", FACILITATION, RECEPTION, 1.5, (
        r"(?:trusted )?government access to (?:personal )?data held by (?:the )?private sector",
        r"declaration on government access", r"necessary and proportionate",
    ), needs_context=True),
)

INDICATOR_BY_ID = {indicator.id: indicator for indicator in INDICATORS}
# Localisation confined to these categories is narrow: a menu of routes for the rest keeps the
# instrument prudent.
NARROW_SCOPE = re.compile(
    r"(?:critical information infrastructure|state organs?|government agenc|public sector|health record|"
    r"payment|financial institution|国家机关|关键信息基础设施|达到国家网信部门规定数量|infraestructura crítica|"
    r"infrastructure critique|infraestrutura crítica|kritische(?:n)? infrastruktur)", _FLAGS)
