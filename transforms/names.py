"""New names: people and organisations that are not in the knowledge base yet.

Patterns, not a model: English names after a title or before a reporting verb, Chinese names as
surname + given name before 表示/指/稱 or after an official title, and organisations by their
legal or institutional suffix. They are stored as `candidate` entities for "new names this week".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import ahocorasick_rs

from transforms.text import fold, simplified_characters, to_traditional


@lru_cache(maxsize=1 << 15)
def _folded(name: str) -> str:
    """A candidate as the KB's folded forms are written, to compare with them. Cached: names recur
    from article to article (officials, companies). The converter runs only on a name that holds a
    Simplified character: most names hold none, and a call costs ~20 µs however short the name."""
    return fold(name, simplified_characters())


# Words of a name: Sean, Jean-Luc, and Hong Kong given names written with a hyphen (Mo-po, Chun-kit)
_EN_WORD = r"[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]+(?:-[A-Za-z][a-zß-öø-ÿ]+)?"  # (accented: Martin Bergö, Stefan Östlund)
_EN_NAME = rf"{_EN_WORD}(?: [A-Z]\.)?(?: {_EN_WORD}){{1,3}}"
# Titles a capitalised run may start with ("Financial Secretary Paul Chan said"): not part of the name
_EN_LEADING_TITLE = re.compile(
    r"^(?:(?:Mr|Ms|Mrs|Miss|Dr|Ir|Hon|the|But|And|Member|General|Prof|Professor|Associate|Assistant|Senior|Deputy|Acting|Director|Secretary|"
    r"Under|Financial|Chief|Executive|Vice-President|Vice-Chancellor|President|Chairman|Chairwoman|"
    r"Commissioner|Permanent|Industry|Technology|Innovation|Minister|Judge|Justice|Councillor|Legislator|"
    r"Superintendent|Inspector|Officer|Head|Manager|Founder|Partner|Analyst|Economist|Lawmaker|"
    # the policy area at the end of an office ("Secretary for Health Lo Chung-mau")
    r"Health|Security|Education|Labour|Welfare|Housing|Transport|Logistics|Development|Environment|"
    r"Ecology|Commerce|Tourism|Affairs|Culture|Sports|Youth|Research|Service|Services) )+"
)
# (Patterns over whole articles start with a letter, the word boundary checked by a lookbehind after
# it: a pattern that starts with `\b` is tried at every position, one that starts with a letter is
# scanned for.)
_EN_TITLED = re.compile(
    r"(?:M(?<!\wM)(?:r|s|rs|iss)|D(?<!\wD)r|P(?<!\wP)rof(?:essor)?|S(?<!\wS)ecretary|C(?<!\wC)hair(?:man|woman))"
    rf"\.? ({_EN_NAME})"
)
# Hong Kong universities write the surname in capitals ("Prof. WENG Qihao", "Dr. Tiffany SO",
# "Professor Wen-Hua CHEN"): after a title, a capitalised surname before or after the given names
_EN_CAPS_WORD = r"[A-Z]{2,}(?:-[A-Z]{2,})?(?![\w-])"
_EN_TITLED_CAPS = re.compile(
    r"(?:M(?<!\wM)(?:r|s|rs)|D(?<!\wD)r|I(?<!\wI)r|P(?<!\wP)rof(?:essor)?)"
    rf"\.? ((?:{_EN_WORD} ){{1,3}}{_EN_CAPS_WORD}|{_EN_CAPS_WORD}(?: {_EN_WORD}){{1,3}}\b)"
)
_EN_SAID = re.compile(
    rf"\b({_EN_NAME}),? (?:said|says|told|added|noted|explained)\b|\b(?:said|says|according to) ({_EN_NAME})\b"
)
# A name in apposition with what the person is: "Malina Ngai, ASW Group Chief Operating Officer",
# "Xu Zhijun, Huawei's deputy chairman", "Kai Tang, Head of ..."
# (looked for from the comma: a pattern that starts with a name is tried at every capital letter)
_EN_APPOSITION_TITLE = re.compile(
    r", (?:the |a |an )?(?:(?:[A-Z][\w&.-]*(?:'s|’s)?|of|for|and) ){0,5}?"
    r"(?:Chief|Head|Director|President|Chairman|Chairwoman|Chairperson|Founder|Co-founder|CEO|CFO|CTO|COO|Dean|"
    r"Professor|Manager|Partner|Secretary|Minister|Officer|Executive|Commissioner|Principal|Convenor|Vice|Deputy|"
    r"Senior|Associate|Assistant|chief|head|director|president|chairman|founder|co-founder|deputy|professor|dean|"
    r"manager|partner|executive|spokesperson|spokesman|spokeswoman|lecturer|researcher|analyst|senior|assistant|"
    r"associate|vice)\b"
)
_EN_NAME_BEFORE_COMMA = re.compile(rf"({_EN_NAME})\Z")
_EN_NAME_FOLLOWS = re.compile(rf" {_EN_NAME}\b")
# Subjects, places and publications named before a comma and a title ("Mathematical Sciences, and
# Professor of", "our Legal Update, Hong Kong Privacy Commissioner")
_EN_NOT_APPOSITION_NAME = frozenset(
    "Station Update Science Sciences Engineering Studies Technology Conference".split()
)
# Capitalised runs that are places or bodies, not people
_EN_NOT_PERSON = re.compile(
    r"\b(?:Hong Kong|Kowloon|China|Chinese|Government|Department|Bureau|Authority|Council|University|Company|Bank|"
    r"Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February|March|April|May|June|July|"
    r"August|September|October|November|December|The|This|That|"
    # airlines, outlets, bodies and places named like a person ("Air India said")
    r"Air|Airlines?|Airways|Airport|India|Indian|Japan|Korea|Singapore|Macau|Macao|Taiwan|Beijing|Shanghai|"
    r"Shenzhen|America|American|British|Britain|Europe|European|United|States|National|International|"
    r"Police|News|Times|Post|Daily|Press|Agency|Group|Holdings|Securities|Capital|Ministry|Commission|"
    r"Committee|Office|Court|Hospital|School|College|Institute|Association|Exchange|Observatory|"
    r"Cyberport|Google|Microsoft|Apple|Amazon|Nvidia|OpenAI|Alibaba|Tencent|Baidu|Huawei|"
    r"Territories|North|South|East|West|Chief|Executive|Personal|Data|Privacy|Legislative|Budget|Policy|"
    r"Magazine|Representative|Drug|Drugs|Pharmacy|Bank|Airlines|Airways)\b"
)
# Cue words, as bytes: `find_candidates` looks for them in the article's ASCII characters alone
_EN_TITLE_WORDS = (b"Mr", b"Ms", b"Dr", b"Ir", b"Prof", b"Secretary", b"Chair")
_EN_SAID_WORDS = (b" said", b" says", b" told", b" added", b" noted", b" explained", b"according to ")
# Every English name pattern holds a capitalised word; most Chinese articles hold none
_CAPITALISED = re.compile(rb"[A-Z][a-z]")
# "AI" is no suffix: "Generative AI", "Chinese AI", "Gen AI" are phrases, not bodies. Names may hold
# "and", "of", "for" ("Research and Development Centre", "Institute of Technology").
_EN_ORG = re.compile(
    r"([A-Z](?<!\w[A-Z])(?:[A-Za-z0-9&]+ (?:(?:and|of|for|&) )?[A-Z]){0,5}[A-Za-z0-9&]+ (?:(?:and|of|for|&) )?"
    # a legal form after the name ("Perfect Optics Co., Ltd."), its full stop included
    r"(?:(?:Co\.?,? )?(?:Ltd|Inc)\.|Co\.,? Limited\b|(?:Ltd|Limited|Inc|Corporation|Holdings|Group|Labs?|"
    r"Technologies|Technology|Institute|Centre|Center|Foundation|Association|Council|Academy|Ventures|Capital|"
    r"Robotics)\b))"
)
# A body named by its kind, then what it is for: "Institute of Digital Medicine", "Centre for Artificial
# Intelligence in Life Sciences", "Faculty of Engineering", "Fund for Innovative Technology in Education"
# (looked for from the kind word, then read back over up to four capitalised words before it)
_EN_KINDS = "Institute|Centre|Center|Laboratory|Lab|Academy|Faculty|School|Fund|Programme|Scheme"
_EN_KIND_OF = re.compile(
    rf"(?:{_EN_KINDS})"
    r" (?:of|for) (?:the )?[A-Z][A-Za-z&'-]*(?: (?:(?:and|of|for|in|&) )?[A-Z][A-Za-z&'-]*){0,6}"
)
_EN_WORDS_BEFORE_KIND = re.compile(r"(?:[A-Z](?<![A-Za-z][A-Z])[A-Za-z&'-]* ){0,4}\Z")
_EN_KIND_WORD = re.compile(rf"\b(?:{_EN_KINDS})\b")
_EN_PURPOSE = re.compile(" (?:of|for) ")
_EN_KIND_TYPES = {
    "Faculty": "university",
    "School": "university",
    "Fund": "programme",
    "Programme": "programme",
    "Scheme": "programme",
}
# What may follow such a name without being part of it: whose it is ("of PolyU", "of the LD"), where it
# is ("in Kowloon Park", "in March"), and the next title in a list ("and Director of HKCLR")
_EN_KIND_OF_TAIL = re.compile(
    r" (?:and (?:Director|Professor|Chair|Head|Dean|Vice)\b.*"
    r"|(?:of|in) the .*"
    r"|(?:of|in) (?:[A-Z]+[a-z]*[A-Z][A-Za-z]*|[A-Z]{2,})"
    r"|in (?:Hong Kong|Kowloon|Cyberport|California|Beijing|Shenzhen|Shanghai|Kwun Tong|January|February|March|April|"
    r"May|June|July|August|September|October|November|December)\b.*"
    # a one-word place after "in" ("for Astrophysics in Munich"), unless it is the field the body works in
    r"|in (?!(?:Medicine|Education|Science|Sciences|Engineering|Health|Healthcare|Geomatics|Finance|Law|Business|"
    r"Design|Architecture|Nursing|Society|Industry)\b)[A-Z][a-z]+)$"
)
# Fragments left when the start of a longer name is not capitalised or is cut off
_EN_ORG_FRAGMENT = re.compile(
    r"^(?:Development|Research|Innovation|Learning|Digital|Education) (?:Centre|Center|Institute)$"
    # a possessive or a generic word before the name: "Our Data Lab", "AI Lab", "Information Technology"
    r"|^(?:Our|Its|Their|His|Her|This|That|These|Those|A|An|Information) "
    r"|^[A-Za-z]+ (?:Technology|Lab|Labs|Centre|Center)$"
)
# Two names joined by "and": "Alibaba Group and Tencent Holdings" is two organisations, not one
_EN_ORG_SUFFIXES = frozenset(
    "Ltd Limited Inc Corporation Holdings Group Labs Lab Technologies Technology Institute Centre Center "
    "Foundation Association Council Academy Ventures Capital Robotics Fund Innovations".split()
)


# A run that starts with a job title, a preposition or a verb is a phrase, not a name
_EN_NOT_ORG_START = re.compile(
    r"(?:The|In|On|At|As|From|For|Secretary|Senior|Director|Chief|Head|Largest|Promotes|Kong)\b"
)
# A word that describes a company before its name ("Startup Fano Labs")
_EN_ORG_DESCRIPTOR = re.compile(r"^(?:Startup|Start-up|Unicorn) (?=[A-Z])")
# A title word inside a run, with a name after it
_EN_TITLE_INSIDE = re.compile(
    r"\b(?:Officer|Secretary|Director|Manager|Commissioner|Chairman|Chairwoman|Chairperson|President|Minister|"
    r"Superintendent|Inspector|Lawmaker|Legislator|Councillor|Spokesman|Spokeswoman|Spokesperson) (?=[A-Z])"
)
# The suffix is not the end of the name: "… Centre of Excellence", "… Institute for Advanced Study"
_EN_NAME_GOES_ON = re.compile(r" (?:of|for|on|and) (?:the )?[A-Z]")
_EN_LEGAL_FORMS = (" Ltd.", " Inc.", " Limited")  # a name ends with its legal form
# Names built only from these words are policy areas ("Innovation and Technology"), not bodies
_EN_GENERIC_ORG_WORDS = frozenset(
    "Hong Kong Science Innovation Technology Technologies and Culture Art Arts Information Digital Research "
    "Development Education".split()
)


def _split_joined_organisations(name: str, known: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """Two names joined by "and" ("Alibaba Group and Tencent Holdings") are two organisations: split
    where the words before "and" already end like a name ("Research and Development Centre" stays) or
    are a known name ("PolyU and Shenzhen Bwell Technology")."""
    parts = name.split(" and ")
    names = [parts[0]]
    for part in parts[1:]:
        if names[-1].rsplit(" ", 1)[-1] in _EN_ORG_SUFFIXES or _folded(names[-1]) in known:
            names.append(part)
        else:
            names[-1] += " and " + part
    return names


# Common surnames in Hong Kong and mainland news (Traditional forms)
SURNAMES = (
    "陳李張黃何林吳劉梁鄭謝郭羅楊許葉蔡曾鄧馮蕭盧朱蘇潘莫彭余孫麥胡戴袁范方傅鍾廖唐文譚周"
    "江石姚黎韋霍鄺鄔甘關凌龍丘溫湯徐邱魏施柯崔程阮司葛岑聶"
    "王趙馬高夏田董杜呂洪侯賴顧孔丁沈任汪俞尹賀邵毛萬伍蔣龐金白秦雷譚薛閻龔嚴牛易常喬"
    "武康賈鄒熊陸郝段陶姜崔單翟屈祝左卓藍古貝歐司"
    "于柳查査冼殷樊祁滕蒲莊辛聞喻包紀荊邢鮑倪竇費韓游詹涂符饒敖閔駱巫衛粟畢尤冉岳植練簡繆閆奚褚"
    "宋宮宫區艾尉闕"
)
# one character, or two (歐陽萬里, 司徒…); a pattern that starts with a character class is scanned
# for much faster than one that starts with an alternation
_ZH_SURNAME = rf"[{SURNAMES}](?:(?<=歐)陽|(?<=司)[徒馬])?"
_ZH_VERB_WORDS = "表示|指出|指|稱|說|認為|強調|透露"
_ZH_VERB_READ = _ZH_VERB_WORDS.replace("|指|", "|指(?![數引標揮定南示令紋])|")
_ZH_VERB = re.compile(
    rf"({_ZH_SURNAME}[\u4e00-\u9fff]{{1,2}}?)(?:今日|昨日|日前|昨|亦|又|則|更|也|再)?(?:{_ZH_VERB_READ})"
)
# the verbs alone: the name pattern is tried only in the six characters before each (a surname and
# up to three characters, and an adverb of up to two)
_ZH_VERB_AT = re.compile(_ZH_VERB_READ)
_ZH_JOB_TITLES = (
    "局長|署長|處長|主席|行政總裁|總裁|教授|博士|校長|議員|專員|總監|創辦人|總工程師|工程師|總經理|經理|董事|"
    "主任|顧問|醫生|講師|院長|秘書長|發言人|會長|理事長|負責人|行長|台長|司長|庭長|法官|政務長|主管|董事長|"
    "創始人|總統|首相|總理|部長|市長|大使|領事|記者|作家|演員|藝人|導演|學者|院士|研究員|所長|律師|書記|"
    "執行官|營運官|技術官|財務官|委員|督察|警司|指揮官|學生|配音員|代表|成員|戰略官|策略官|次長"
)
# A job title, then a name: 主席陳大文表示, 荷蘭經濟大臣卡雷曼斯表示, 創辦人Elizabeth Yip指出. The titles
# are looked for once; each name pattern is tried where one ends.
_ZH_TITLE = re.compile(
    # longest first: 董事長 is tried before 董事, since the name is read where the title ends
    "|".join(
        sorted(
            f"{_ZH_JOB_TITLES}|王儲|國王|女王|大臣|領袖|外長|國務卿|總督|執行長".split("|"),
            key=len,
            reverse=True,
        )
    )
)
_ZH_NAME_AFTER_TITLE = re.compile(
    r"\s?(?:（[^（）\n]{1,8}）)?"
    # a full name (surname and two characters) before 及/和/與 starts a list (主席潘燊昌及…); a shorter
    # one there is the start of a name that goes on (陳福和)
    rf"({_ZH_SURNAME}[\u4e00-\u9fff](?!以及)[\u4e00-\u9fff](?=[及和與])|{_ZH_SURNAME}[\u4e00-\u9fff]{{1,2}}?"
    rf"(?=表示|指|稱|說|認為|強調|透露|在|出席|今日|昨日|近日|早前|日前|亦|接受|介紹|回應|解釋|致|主持|率領|帶領|會見|會晤|"
    rf"宣布|分享|發言|等|擔任|出任|形容|估計|坦言|直言|補充|提到|提醒|建議|相信|預計|希望|重申|呼籲|承認|報道|報導|"
    rf"就|見證|則|反映|期許|會面|[，。、：:；）（()\s]))"
)
# A foreign name in Chinese is spelt with a small set of characters chosen for their sound (馬斯克,
# 奧爾特曼, 卡雷曼斯); after a job title and before what the person said, such a run is a name.
_TRANSLITERATION = (
    "阿埃艾愛安奧巴拜班貝本比彼畢波伯博布查達戴丹德迪蒂丁杜多厄恩法菲費芬弗福富伽蓋甘岡戈格古圭哈海漢豪赫亨胡華霍"
    "吉加賈簡傑金卡凱坎康考柯科克肯庫誇拉萊蘭朗勞勒雷蕾里利理麗連琳羅洛魯路倫盧馬瑪邁麥曼梅門蒙米密敏摩莫默姆穆"
    "納奈南內尼涅紐努諾歐帕派潘佩彭皮普奇契恰喬切欽丘薩塞賽桑瑟森沙莎尚舍什施史舒斯松蘇索塔泰坦湯唐特提圖托瓦萬"
    "旺威韋維溫沃烏伍西希錫謝辛休雅亞揚耶伊因英尤約扎札澤詹茲佐祖爾茨豐汀娜娃婭絲黛妮蓮茜莉露妲芙翰"
)
_FOREIGN_NAME_AFTER_TITLE = re.compile(
    rf"([{_TRANSLITERATION}]{{2,6}})(?=表示|指出|指|稱|說|認為|強調|透露|批評|發表|宣布|回應|警告|承認|[，。、：:；和及與（(])"
)
# A Latin name after a Chinese job title, before what the person said: 技術總監Jacky表示
_LATIN_NAME_AFTER_TITLE = re.compile(
    r"\s?([A-Z][a-z]+(?: [A-Z][a-z]+){0,2})\s?(?=表示|指出|指|稱|說|認為|強調|透露|[：:「])"
)


# What a name after a title starts with: a surname, a sound character, a capital, a space or a bracket
_CAN_FOLLOW_A_TITLE = frozenset(SURNAMES + _TRANSLITERATION + "ABCDEFGHIJKLMNOPQRSTUVWXYZ \u3000（")


# The titles as an Aho-Corasick automaton, leftmost-longest: the same spans as `_ZH_TITLE.finditer`
# (whose alternation is ordered longest first) in about a third of the time
_ZH_TITLE_FINDER = ahocorasick_rs.AhoCorasick(
    _ZH_TITLE.pattern.split("|"), matchkind=ahocorasick_rs.MatchKind.LeftmostLongest
)


def _titled_names(text: str) -> Iterator[tuple[re.Pattern[str], re.Match[str]]]:
    """Names right after a job title, each with the pattern that read it."""
    for _, _, end in _ZH_TITLE_FINDER.find_matches_as_indexes(text):
        if text[end : end + 1] not in _CAN_FOLLOW_A_TITLE:
            continue  # most titles are followed by no name: 主席表示, 代表香港
        for regex in (_ZH_NAME_AFTER_TITLE, _FOREIGN_NAME_AFTER_TITLE, _LATIN_NAME_AFTER_TITLE):
            match = regex.match(text, end)
            if match:
                yield regex, match
                break


# A byline or credit line: 記者|盧家俊, 【撰文：蘇遠微】, 編輯：蘇曉欣, and a wire story's dateline
# (中央社記者劉建邦台北26日電)
_ZH_BYLINE = re.compile(rf"[|｜:：]\s?({_ZH_SURNAME}[\u4e00-\u9fff]{{1,2}})(?=[\s】\]）)|｜，,、/／]|$)")
_ZH_BYLINE_WORDS = ("記者", "編輯", "攝影", "撰文", "採訪", "撰稿", "作者", "文", "圖")
_ZH_DATELINE = re.compile(
    rf"記者({_ZH_SURNAME}[\u4e00-\u9fff]{{1,2}})[\u4e00-\u9fff]{{2,4}}\d{{1,2}}日(?:專)?電"
)
# A title after the name, as Hong Kong writes it: 陳大文教授, 鄭震生先生
_ZH_TITLES_AFTER = "教授|博士|醫生|先生|女士|議員|太平紳士|校長|律師"
_ZH_TITLE_AFTER = re.compile(rf"({_ZH_SURNAME}[\u4e00-\u9fff]{{1,2}}?)(?:{_ZH_TITLES_AFTER})")
# A photo credit ("（周泳彤攝）", "/歐陽德浩攝") and a quote introduced by the speaker's name
# ("甘梓皓：「…」"); the character before the name is checked on each match
_ZH_CREDIT = re.compile(rf"({_ZH_SURNAME}[\u4e00-\u9fff]{{1,2}}?)攝(?=[）)\s<]|$)")
_ZH_QUOTE = re.compile(rf"({_ZH_SURNAME}[\u4e00-\u9fff]{{1,2}})[：:]「")
# What these patterns end with, as literal words: each is looked for first, and the pattern is tried
# only in the few characters before it. Scanning Chinese text for a surname character stops at
# almost every character; scanning for a word does not.
_ZH_TITLE_AFTER_AT = re.compile(_ZH_TITLES_AFTER)
_ZH_CREDIT_AT = re.compile("攝")


def _ending_at(
    regex: re.Pattern[str], anchor: re.Pattern[str], text: str, back: int, ahead: int = 1
) -> Iterator[re.Match[str]]:
    """Matches of `regex` that end with an occurrence of `anchor`: the name is at most `back`
    characters before it, and `ahead` characters after it are what a lookahead may read."""
    for at in anchor.finditer(text):
        match = regex.search(text, max(0, at.start() - back), at.end() + ahead)
        if match:
            yield match


# A name in a list after a titled one ("、陳湛文", "及陳紫萱"), ending where the list goes on or stops
_ZH_LISTED_NAME = re.compile(rf"[、及和與]({_ZH_SURNAME}[\u4e00-\u9fff]{{1,2}}?)(?=[、及和與，。；）]|等)")
# Hong Kong names in English carry a hyphenated given name: "Tang Wai-yin", "Scott Leung Man-kwong"
_EN_HK_NAME = re.compile(
    r"([A-Z](?<!\w[A-Z])(?:[a-z]+ [A-Z]){0,2}[a-z]{1,6} [A-Z][a-z]{1,5}-(?!bound|based|born|led|owned|run|made)[a-z]{2,5})\b"
)
# A byline: the body's first line is a name alone ("Judy Cui", "By Kanis Leung").
_EN_BYLINE = re.compile(rf"\A\s*(?:By )?({_EN_NAME})\s*\n")
_ZH_ORG = re.compile(
    r"([\u4e00-\u9fff]{2,12}(?:有限公司|大學|研究院|研究所|研究中心|實驗室|學院|協會|基金會|集團|科技公司))"
)
_ZH_BEFORE_ORG = re.compile(r"與|和|及|由|在|於|向|為|指|據|聯同|包括|歡迎")
_ZH_STOP = {"政府", "香港", "本港", "特區", "內地", "國家", "當局", "中心", "公司"}
# A name holds no conjunction, particle or measure word: "公營機構和科技公司", "所本地大學" are phrases.
_ZH_NOT_ORG = re.compile(
    r"[和及與的在等或並兩三四五六七八九十多各所間家個名位項們為於是不也亦已該這年日兼]|業務|部門|本地|全港|多間|不同|有關|"
    r"相關|聘請|夥拍|出席|邀請|放寬|提升|共建|建立|例如|目前|根據|最新|支持|遠至|至於|難道|見證|宣布|成立|新增|首次|捐贈|感謝|部分|另|資助|研究型|詐騙|"
    # a unit named by its kind alone ("醫學院", "研究院"): the tail of a longer name
    r"^(?:醫學院|研究院|研究所|學院|大學|實驗室|研究中心|協會|集團)$"
    # a legal form alone ("集團有限公司" after a name the pattern cut off)
    r"|^(?:集團|控股|科技|國際|投資)*(?:有限公司|公司)$"
)
_HAN = re.compile(r"[\u4e00-\u9fff]")
_NOT_A_NAME = re.compile(r"(?:表示|指出|稱|說|認為|今日|昨日|政府|香港|局長|主席)")
# Common words that start with a surname character: 白皮書指, 曾經表示, 文章指出
_ZH_COMMON_WORDS = frozenset(
    "白皮 曾經 文章 文本 方便 文件 方面 方案 方法 方向 方式 一向 高度 高層 金融 黃金 連續 周年 周末 史上 時間 程度 程序 "
    "項目 陸續 常規 安全 萬元 石油 田園 江湖 司法 易於 單位 段落 左右 古代 尹文 易手 武器 康復 龍頭 高峰 關注 "
    # weekdays (周三表示: "said on Wednesday"), manner words (嚴正表示), Macao's judicial police, drivers
    "任何 周一 周二 周三 周四 周五 周六 周日 嚴正 嚴重 嚴格 嚴厲 司警 司機 關意 關實 雖然 "
    # words that start with a surname added later (簡單說, 包括, 衛生署表示, 韓國稱)
    "簡單 簡介 簡稱 簡報 簡化 包括 包含 衛生 游泳 尤其 費用 紀律 紀錄 紀念 查詢 查看 查證 辛苦 畢業 符合 植物 "
    "韓國 韓方 聞訊 練習 岳父 于是 樊籬".split()
)
# Forms of address, not names: 黃先生, 梁太, 陳小姐
_ZH_ADDRESS = re.compile(r"^.(?:先生|小姐|女士|太太?|伯伯?|婆婆?|姨|姐|生)$")
# What stands before a Chinese name in news text: a title's last character (局長, 主席, 發言人, 主任,
# 教授, 隊員...), a conjunction or punctuation. After any other character the "name" is the tail of
# a longer word or name (中方始終表示, 付凌暉, 扎哈羅娃, 金融科技周上指出): not a name.
_ZH_BEFORE_NAME = frozenset(
    "人長席裁任表師司管事臣使隊員理相察問官將的和及與監授總家手星者督士生工警長君王后母父兄弟姊妹妻子女"
    "孫友伴翁民眾客編導演唱委記嘉賓銜代"
)
# A given name holds no function word: "程被" in 過程被稱 is a word ending, a passive and a verb;
# "周時表示" is "said at the week".
NOT_IN_GIVEN_NAME = re.compile(r"[被是在也就都會將已要曾並對把於為與和及或的了着著所這那其此該但而則最時昨]")
# Ordinary words whose second character is a surname: the "name" in 如何清晰指 starts inside 如何.
_WORDS_ENDING_IN_A_SURNAME = frozenset(
    "如何 任何 為何 幾何 從何 過程 工程 課程 流程 議程 進程 全程 行程 歷程 療程 日程 規程 里程 章程 路程 專程 "
    "啟程 方程 航程 回程 射程 前程 遠程 教程 賽程 單程 雙程 雙方 對方 各方 一方 官方 警方 地方 多方 校方 資方 "
    "公司 上司 大陸 內陸 著陸 登陸 中方 美方 日方 英方 俄方 歐方 港方 台方 菲方 烏方 軍方 我方 他方 買方 賣方 "
    "勞方 院方 天文 首屈 技周 相關".split()
)


# An English given name and a Chinese surname ("Ken Wong", "Phoebe Poon", "Jensen Huang"): how Hong
# Kong English news names most people. Hong Kong place names are built from the same syllables
# (Kwun Tong, Tsuen Wan, Choi Hung), so the first word must not be one; a hyphen after the surname
# starts a Cantonese given name, which `_EN_HK_NAME` reads whole.
_ROMANISED_SURNAMES = (
    "Chan|Wong|Lee|Leung|Cheung|Lau|Ng|Ho|Lam|Tang|Yip|Poon|Chow|Li|Yeung|Kwok|Lo|Tse|Fung|Hui|Lai|So|Mak|"
    "Tsang|Ma|Choi|Kwan|Yu|Chu|Siu|Tam|Tsui|Wu|Chiu|Cheng|Chung|Law|Ko|Kwong|Mok|Sze|Tong|Wan|Yau|Yuen|Au|"
    "Chau|Fong|Hung|Lui|Pang|Shek|Tai|To|Tsoi|Yung|Zhang|Wang|Liu|Chen|Yang|Zhao|Huang|Zhou|Sun|Xu|Lin|He|"
    "Guo|Luo|Gao|Zheng|Liang|Xie|Song|Tan|Lim|Teo|Goh|Ong|Koh|Ye|Yan|Jiang|Feng|Cai"
)
# (no leading \b: a pattern that starts with a character class is scanned for much faster; the
# left boundary is checked on each match instead)
_EN_GIVEN_SURNAME = re.compile(rf"([A-Z][a-z]{{2,10}}) (?:{_ROMANISED_SURNAMES})\b(?![-\w]| [A-Z])")
_NOT_A_GIVEN_NAME = frozenset(
    f"{_ROMANISED_SURNAMES}|Kowloon|Kwun|Kwai|Tsuen|Tung|Chai|Sha|Fan|Kei|King|Lei|Sai|Ngau|Basic|Miss|"
    "Prof|Mrs|Madam|Shui|Tin|Mei|Siu|Shun|Kam|Hang|Heng|Fu|Kai|Sheung|Tseung|Tuen|Yuen|Ping|Tsim|Causeway|"
    "Happy|Repulse|Clear|Water|Deep|Stanley|Aberdeen|Ocean|Victoria|Lantau|Lamma|Peng|Cheung|Discovery|"
    # titles before a surname alone ("Director Liu", "President Lai")
    "Director|President|Member|Chairman|Secretary|Minister|Professor|Doctor|Judge|Inspector|Officer|"
    "Commissioner|Deputy|Vice|Chief|Premier|Governor|Mayor|General|Captain|Principal|Senator|Councillor|"
    "Legislator|Lawmaker|Ambassador|Consul|Dean|Chancellor|Head|Manager|Chair|Superintendent".split("|")
)

# Any other surname after a common Western given name ("Heather Long", "Patrick O'Hare", "Dennis
# LEUNG" in GIA's style). The given name is checked against a list, so the pattern itself is loose.
_GIVEN_NAMES = frozenset(
    word
    for line in (Path(__file__).parent / "kb" / "given_names.txt").read_text(encoding="utf-8").splitlines()
    if not line.startswith("#")
    for word in line.split()
)
_EN_GIVEN_ANY = re.compile(
    r"([A-Z][a-z]{1,11}) ((?:(?:de|van|von|der|da|di|del|bin|al) )?(?:O'|O’|Mc|Mac)?[A-Z][a-z]+(?:-[A-Z][a-z]+)?"
    r"|[A-Z]{2,})(?![-\w]| [A-Z])"
)
# What follows a given name in names of places, buildings, prizes and bodies ("Nelson Street", "Adam
# Smith Institute" is caught by `_EN_NOT_PERSON`)
_EN_NOT_A_SURNAME = frozenset(
    "Street Road Avenue Lane Path Park Square Hall Tower Towers Building Centre Center Harbour Bay Island "
    "Prize Award Awards Cup Trophy Medal Museum Library Theatre Stadium Church Cathedral Garden Gardens "
    "Estate House Hotel Line Fund Scheme Programme Trust Fellowship Lecture Festival Summit Forum Report "
    "Act Day Week Club Team League Campus Wing Block Village Memorial Mall Plaza AI GPT CEO IT".split()
)

# Schemes, funds, sandboxes and platforms: Chinese news puts their names in 「」, English capitalises
# them. The last word says the type; a task force (專班) is a government body.
_ZH_QUOTED = re.compile(r"「([^「」\n]{4,24})」")
_ZH_PROGRAMME_ENDINGS = {
    "計劃": "programme",
    "計畫": "programme",
    "基金": "programme",
    "沙盒": "programme",
    "加速器": "programme",
    "專班": "government-body",
    "委員會": "government-body",
    "工作組": "government-body",
    "專責小組": "government-body",
    "平台": "product",
    "平臺": "product",
    "系統": "product",
}
_ZH_PROGRAMME_ENDING_WORDS = tuple(_ZH_PROGRAMME_ENDINGS)
# An AI tool named in quotes right after what it is: 聊天機械人「Tammy」, 人工智能系統「深博士」,
# 機械人「大力聰明仔」, or after "named" (一款名為「Focus One」的智能頭環). The word before the quote says
# the quoted words are a thing's name, not a slogan or a scare quote.
_ZH_AI_THING = re.compile(r"「([^「」\n，,。、：:！？]{2,15})」(?!事件)")
_ZH_AI_THING_NOUNS = (
    "機械人",
    "機器人",
    "模型",
    "平台",
    "系統",
    "助手",
    "助理",
    "程式",
    "工具",
    "名為",
    "命名為",
)
_ZH_NOT_AI_THING_NOUN = ("容許系統", "接受過系統")
# (looked for by its quotes: a pattern that starts with a word list is tried at every position)
_EN_AI_THING = re.compile(r"[“\"]([A-Z][^”\"\n]{1,40}?)[,.]?[”\"]")
_EN_AI_THING_BEFORE = re.compile(
    r"(?:(?P<noun>chatbot|robot|platform|model|assistant|system|app|tool) (?:(?:called|named|dubbed|known as) )?|"
    r"(?<!so-)(?:[Cc]alled|[Nn]amed|[Dd]ubbed) )\Z"
)
# "named" alone names films and songs too: a thing named so is an AI or software tool only near such a word
_EN_AI_THING_NEAR = re.compile(r"\b(?:AI|chatbot|robot|platform|model|assistant|system|app|tool|software)\b")
_BRACKETED_FORM = re.compile(r"([^（(]{2,})[（(]([^（()）]{2,})[）)]")
_ZH_NOT_PROGRAMME = re.compile(r"[的之：:，,、。？！]|[一二三四五六七八九十兩多各八大]{1,2}(?:個|項|大)")
_EN_PROGRAMME = re.compile(
    r"\b((?:[A-Z][A-Za-z0-9.&'+-]*|of|and|for|on|in|to)(?: (?:[A-Z][A-Za-z0-9.&'+-]*|of|and|for|on|in|to)){0,7}"
    r" (?:Scheme|Programme|Fund|Sandbox|Accelerator|Platform|System|Portal|App))\b"
)
# Named systems are products: "Road Defect Detection System", "HKP Mobile App". Two words ending in
# "System" are mostly a description ("Motion Capture System"), so a product name needs three.
_EN_PROGRAMME_TYPES = {"Platform": "product", "System": "product", "Portal": "product", "App": "product"}
_EN_PRODUCT_MIN_WORDS = {"System": 3, "Portal": 3, "App": 3}
_EN_PROGRAMME_WORDS = (
    b"Scheme",
    b"Programme",
    b"Fund",
    b"Sandbox",
    b"Accelerator",
    b"Platform",
    b"System",
    b"Portal",
    b" App",
)
_EN_NOT_PROGRAMME = re.compile(
    r"^(?:The|This|That|Through|Under|With|Its|Our|Their|A|An|In|On|Of|And|For|To) "
)


# Companies named beside a word that says what they are: "AI video analytics firm Ailytics", "Trumptech, a
# leading education technology company", "本地科企Wizpresso", "ScentSafe創辦人余浩堃". Start-ups' names are
# mostly outside any list, and the cue word is what tells a company from a capitalised word.
_LATIN_NAME = r"[A-Z][A-Za-z0-9]*(?:[.&'-][A-Za-z0-9]+)*(?: (?:[A-Z][A-Za-z0-9]*(?:[.&'-][A-Za-z0-9]+)*|AI|of|and|&)){0,3}"
_LATIN_RUN = r"[A-Za-z][A-Za-z0-9]*(?:[ .&'-][A-Za-z0-9]+){0,3}"
_EN_COMPANY_BEFORE = re.compile(
    r"\b(?:firms?|company|companies|start-?ups?|unicorns?|developer|maker|provider|operator|platform|brand|"
    rf"subsidiary|spin-?off),? ({_LATIN_NAME})"
)
_EN_COMPANY_APPOSITION = re.compile(
    rf"\b({_LATIN_NAME}), an? (?:[\w-]+ ){{0,5}}(?:firm|company|start-?up|unicorn|developer|provider|maker|platform)\b"
)
# the words after a Latin-script name that say it is a company's (聯合創辦人 and 科技公司 end in another cue)
_ZH_COMPANY_CUES = (
    "創辦人",
    "聯合創辦人",
    "創始人",
    "行政總裁",
    "首席執行官",
    "董事",
    "公司",
    "科技公司",
    "集團",
    "旗下",
)
_ZH_COMPANY_AFTER = re.compile(rf"(?<![A-Za-z0-9])({_LATIN_RUN}) ?(?:{'|'.join(_ZH_COMPANY_CUES)})")
_ZH_COMPANY_BEFORE = re.compile(
    rf"(科企|初創企業|初創公司|初創|公司|企業|名叫|品牌|平台) ?({_LATIN_RUN})(?![A-Za-z0-9])"
)
_ZH_PRODUCT_CUES = frozenset({"品牌", "平台"})
_EN_COMPANY_CUES = (
    b"firm",
    b"compan",
    b"start",
    b"unicorn",
    b"developer",
    b"maker",
    b"provider",
    b"operator",
    b"platform",
    b"brand",
    b"subsidiary",
    b"spin",
)
_NOT_A_COMPANY = frozenset(
    {"The", "This", "That", "AI", "A", "An", "In", "It", "Its", "IPO", "Prof", "Dr", "Mr", "Ms"}
)
_NAME_TAIL = re.compile(r"(?:'s|’s|(?: (?:of|and|&|AI))+)$")
# a job title before a name ("CEO Andy Vesey", "CEO of Hipcricket") makes the run a person or a phrase
_EN_JOB_TITLE_START = re.compile(
    r"^(?:CEO|CFO|CTO|COO|Chief|President|Founder|Co-founder|Chairman|Chairwoman|Director|Head)\b"
)


def _company_names(run: str) -> list[str]:
    """The company names in a cue's run: "Aqumon and Midas Analytics" is two; a possessive or a
    trailing "of" / "AI" is not part of the name."""
    names = []
    for part in re.split(r" (?:and|&) ", run):
        name = _NAME_TAIL.sub("", part.strip())
        if (
            len(name) >= 2
            and name not in _NOT_A_COMPANY
            and not name.isdigit()
            and not _EN_JOB_TITLE_START.match(name)
            and ". " not in name
        ):
            names.append(name)
    return names


# What a name's legal or institutional ending says it is (docs/LABELLING.md, section 6): a company by its
# legal form; a university, or one of its faculties and schools, by 大學 / 學院 / "University" at the end;
# a research body by its research ending.
_COMPANY_ENDING = re.compile(
    r"(?:有限公司|集團|科技公司| (?:Ltd|Limited|Inc|Corporation|Corp|Company|Holdings|Group|Technologies))\.?$"
)
_UNIVERSITY_ENDING = re.compile(r"(?:大學|學院|^(?:The )?University of [A-Z][A-Za-z ]+| University)$")
_RESEARCH_ENDING = re.compile(r"(?:研究院|研究所|研究中心|實驗室)$")


def organisation_type(name: str) -> str:
    """The entity type an organisation-shaped name has by its ending (organisation when it says nothing)."""
    if _COMPANY_ENDING.search(name):
        return "company"
    if _UNIVERSITY_ENDING.search(name):
        return "university"
    if _RESEARCH_ENDING.search(name):
        return "research-institute"
    return "organisation"


def _is_a_word(name: str) -> bool:
    """A Chinese "name" that is a word or a phrase: it holds a reporting verb or a title, starts with a
    common word that begins with a surname (白皮書, 曾經), or its given name holds a function word."""
    return bool(_NOT_A_NAME.search(name) or name[:2] in _ZH_COMMON_WORDS or NOT_IN_GIVEN_NAME.search(name, 1))


def find_candidates(
    title: str, body: str, known: set[str] | None = None, limit: int = 15, organisations: bool = True
) -> list[dict[str, Any]]:
    """Person and organisation names found by pattern and absent from `known` (folded KB forms). The
    Chinese patterns are written in Traditional characters: a story in Simplified is read in its
    Traditional form (the same length, character for character), and each name is returned as the
    story writes it."""
    known = known or set()
    read_title, read_body = read_as_traditional(title, body)
    found = _found_names(read_title, read_body, known, organisations)
    if (read_title, read_body) != (title, body):  # each name as the story writes it
        text = f"{title}\n\n{body}"
        found = {
            (text[min(starts) : min(starts) + len(name)], kind): starts
            for (name, kind), starts in found.items()
        }
    # one name found by two patterns of different kinds is one candidate: the kind found most often
    ranked: dict[str, tuple[str, set[int]]] = {}
    for (name, kind), starts in sorted(found.items(), key=lambda kv: -len(kv[1])):
        ranked.setdefault(name, (kind, starts))
    return [
        {"name": name, "type": kind, "count": len(starts)}
        for name, (kind, starts) in list(ranked.items())[:limit]
    ]


# Frequent characters only Simplified writes (这, 们, 说, 国...): three of them in the first 400
# characters make a story Simplified (dev's Simplified items hold 16 to 44 there; Traditional ones none)
_SIMPLIFIED_ONLY = re.compile(
    "[万与业东为么书产亿从们会体关务动区发员国学实对导将应开当总报数无时术机样点现经给网计认让记该说资过还这进长门问间际领题]"
)


def looks_simplified(text: str) -> bool:
    """Is this Chinese text written in Simplified characters?"""
    return not text.isascii() and len(_SIMPLIFIED_ONLY.findall(text, 0, 400)) >= 3


def read_as_traditional(title: str, body: str) -> tuple[str, str]:
    """A story as the Chinese name patterns read it: in Traditional characters when it is written in
    Simplified and the conversion keeps every offset (character for character); else as it is."""
    if looks_simplified(title) or looks_simplified(body):
        converted = to_traditional(title), to_traditional(body)
        if len(converted[0]) == len(title) and len(converted[1]) == len(body):
            return converted
    return title, body


def _found_names(
    title: str, body: str, known: set[str], organisations: bool
) -> dict[tuple[str, str], set[int]]:
    """Each name found with its kind and where it starts in `title + "\n\n" + body`."""
    text = f"{title}\n\n{body}"
    # The cue checks read the article's ASCII characters alone: a few hundred bytes in a Chinese story
    # rather than its whole text once per word (a cue in the text is in them; one found there only
    # costs the pattern's search). English names need a capitalised word.
    latin = text.encode("ascii", "ignore")
    capitalised = _CAPITALISED.search(latin) is not None
    chinese = not text.isascii()  # every Chinese pattern holds a Chinese character
    # each name with the offsets where it was found: one mention matched by two patterns
    # ("主席陳錦榮表示": the title and the verb pattern) counts once
    found: dict[tuple[str, str], set[int]] = {}

    def keep(name: str, kind: str, start: int) -> None:
        stripped = name.strip()
        if len(stripped) < 2 or stripped in _ZH_STOP or _folded(stripped) in known:
            return
        found.setdefault((stripped, kind), set()).add(start + name.index(stripped[0]))

    def keep_person(run: str, start: int) -> None:
        """An English name: the capitalised run without leading titles, two words at least."""
        title = _EN_LEADING_TITLE.match(run)
        name = run[title.end() :] if title else run
        # an office named before the person ("Government Chief Information Officer Tony Wong"): the
        # words after its last title word
        *_, office = _EN_TITLE_INSIDE.split(name)
        name = office if office else name
        if " " in name and not _EN_NOT_PERSON.search(name):
            keep(name, "person", start + len(run) - len(name))

    # cheap substring checks first: most articles have no English title or reporting verb at all
    if capitalised and any(word in latin for word in _EN_TITLE_WORDS):
        for regex in (_EN_TITLED, _EN_TITLED_CAPS):
            for match in regex.finditer(text):
                keep_person(match.group(1), match.start(1))
    if capitalised and any(word in latin for word in _EN_SAID_WORDS):
        for match in _EN_SAID.finditer(text):
            group = 1 if match.group(1) else 2
            keep_person(match.group(group), match.start(group))
    if capitalised and b", " in latin:
        for title_match in _EN_APPOSITION_TITLE.finditer(text):
            if title_match.group().endswith("rofessor") and _EN_NAME_FOLLOWS.match(text, title_match.end()):
                continue  # the title of the name after it ("Global Relations, Professor Stefan Östlund")
            comma = title_match.start()
            named = _EN_NAME_BEFORE_COMMA.search(text, max(0, comma - 80), comma)
            if named is None:
                continue
            last_word = named.group(1).rsplit(" ", 1)[-1]
            if not (named.start() and text[named.start() - 1].isalnum()) and not (
                last_word in _EN_NOT_A_SURNAME or last_word in _EN_NOT_APPOSITION_NAME
            ):
                keep_person(named.group(1), named.start(1))
    if (
        organisations
        and capitalised
        and any(f" {word} ".encode() in latin for word in ("of", "for", "on", "in"))
    ):
        for kind_match in _EN_KIND_OF.finditer(body):
            if kind_match.start() and body[kind_match.start() - 1].isalpha():
                continue  # inside a word ("Prelab of")
            run_before = _EN_WORDS_BEFORE_KIND.search(
                body, max(0, kind_match.start() - 80), kind_match.start()
            )
            start = run_before.start() if run_before else kind_match.start()
            name = body[start : kind_match.end()]
            if leading := _EN_NOT_ORG_START.match(name):  # "The", "Director" before the name
                name = name[leading.end() :].lstrip()
            name = _EN_KIND_OF_TAIL.sub("", name)
            # still the kind and what it is for; "… Centre of Excellence" names a grade, not what it is for
            if _EN_PURPOSE.search(name) and not name.endswith(" of Excellence"):
                last_kind = _EN_KIND_WORD.findall(name)[-1]
                body_type = _EN_KIND_TYPES.get(last_kind, "research-institute")
                keep(name, body_type, len(title) + 2 + body.index(name, start))
    if capitalised and b"-" in latin:
        for match in _EN_HK_NAME.finditer(text):
            keep_person(match.group(1), match.start(1))
    byline = _EN_BYLINE.match(body) if capitalised else None
    # a section label on the first line ("New Business") is words the article also writes in lower case
    if byline and not any(
        re.search(rf"\b{re.escape(word.lower())}\b", body) for word in byline.group(1).split()
    ):
        keep(byline.group(1), "person", len(title) + 2 + byline.start(1))
    # in the body only: a headline capitalises every word ("Hong Kong Establishes Board for ...")
    for match in _EN_ORG.finditer(body) if organisations and capitalised else ():
        if _EN_NAME_GOES_ON.match(body, match.end(1)) and not match.group(1).endswith(_EN_LEGAL_FORMS):
            continue  # "Digital Education Centre" of "the Digital Education Centre of Excellence (CoE)"
        offset = match.start(1)
        for name in _split_joined_organisations(match.group(1), known):
            name = _EN_ORG_DESCRIPTOR.sub("", name)
            if (
                " " in name
                and not _EN_NOT_ORG_START.match(name)
                and not _EN_ORG_FRAGMENT.match(name)
                and not set(name.split()) <= _EN_GENERIC_ORG_WORDS
            ):
                keep(name, organisation_type(name), len(title) + 2 + body.index(name, offset))
    titled = list(_titled_names(text)) if chinese else []
    zh_matches = (
        (
            _ending_at(_ZH_VERB, _ZH_VERB_AT, text, back=6),
            [match for regex, match in titled if regex is _ZH_NAME_AFTER_TITLE],
            _ending_at(_ZH_TITLE_AFTER, _ZH_TITLE_AFTER_AT, text, back=4),
        )
        if chinese
        else ((), (), ())
    )
    for regex, matches in zip((_ZH_VERB, _ZH_NAME_AFTER_TITLE, _ZH_TITLE_AFTER), zh_matches, strict=True):
        for match in matches:
            name, start = match.group(1), match.start(1)
            if (
                _is_a_word(name)
                or text[max(0, start - 1) : start + 1] in _WORDS_ENDING_IN_A_SURNAME
                or _ZH_ADDRESS.match(name)
            ):
                continue
            before = text[start - 1] if start else ""
            if regex is _ZH_NAME_AFTER_TITLE:
                pass  # the title stands right before the name
            elif _HAN.match(before):
                # a married name (局長楊何蓓茵, 行政總裁馮程淑儀): the husband's surname comes first
                if before in _ZH_BEFORE_NAME:
                    pass
                elif (
                    before in SURNAMES
                    and len(name) == 3
                    and (start < 2 or not _HAN.match(text[start - 2]) or text[start - 2] in _ZH_BEFORE_NAME)
                ):
                    name, start = before + name, start - 1
                else:
                    continue
            keep(name, "person", start)
            if regex is _ZH_NAME_AFTER_TITLE:
                # the names listed after the titled one: 演員魏浚笙、陳湛文及伍詠詩
                end = start + len(name)
                while listed := _ZH_LISTED_NAME.match(text, end):
                    name = listed.group(1)
                    if _is_a_word(name):
                        break
                    keep(name, "person", listed.start(1))
                    end = listed.end(1)
    for regex, match in titled:  # foreign names, in Chinese characters or in Latin letters
        if regex is not _ZH_NAME_AFTER_TITLE and not _is_a_word(match.group(1)):
            keep(match.group(1), "person", match.start(1))
    for regex in (_ZH_BYLINE, _ZH_DATELINE) if chinese else ():
        for match in regex.finditer(text):
            word_end = match.start() - (text[match.start() - 1 : match.start()] == " ")
            if regex is _ZH_BYLINE and not text.endswith(_ZH_BYLINE_WORDS, 0, word_end):
                continue
            if not _is_a_word(match.group(1)):
                keep(match.group(1), "person", match.start(1))
    credits = _ending_at(_ZH_CREDIT, _ZH_CREDIT_AT, text, back=4) if "攝" in text else ()
    quotes = _ZH_QUOTE.finditer(text) if "：「" in text or ":「" in text else ()
    for match in credits:  # after an opening bracket, a slash or a space
        name, start = match.group(1), match.start(1)
        if (not start or text[start - 1] in "（(/／ \n\t。>") and not (
            _is_a_word(name) or _ZH_ADDRESS.match(name)
        ):
            keep(name, "person", start)
    for match in quotes:  # not inside a longer run of Chinese
        name, start = match.group(1), match.start(1)
        if not (start and _HAN.match(text[start - 1])) and not (_is_a_word(name) or _ZH_ADDRESS.match(name)):
            keep(name, "person", start)
    for match in _EN_GIVEN_SURNAME.finditer(text) if capitalised else ():
        if match.start() and text[match.start() - 1].isalnum():
            continue
        if match.group(1) not in _NOT_A_GIVEN_NAME and not _EN_NOT_PERSON.search(match.group(0)):
            keep(match.group(0), "person", match.start())
    for match in _EN_GIVEN_ANY.finditer(text) if capitalised else ():
        given, surname = match.group(1), match.group(2)
        if (
            given in _GIVEN_NAMES
            and surname.rsplit(" ", 1)[-1] not in _EN_NOT_A_SURNAME
            and not (match.start() and text[match.start() - 1].isalnum())
            and not _EN_NOT_PERSON.search(match.group(0))
        ):
            keep(match.group(0), "person", match.start())
    if "「" in text:
        for match in _ZH_QUOTED.finditer(text):
            name = match.group(1)
            if not name.endswith(_ZH_PROGRAMME_ENDING_WORDS):
                continue
            kind = next((k for end, k in _ZH_PROGRAMME_ENDINGS.items() if name.endswith(end)), None)
            if kind and not _ZH_NOT_PROGRAMME.search(name):
                keep(name, kind, match.start(1))
    for match in _ZH_AI_THING.finditer(text) if "「" in text else ():
        noun_end = match.start() - (text[match.start() - 1 : match.start()] in " \u3000")
        if not text.endswith(_ZH_AI_THING_NOUNS, 0, noun_end) or text.endswith(
            _ZH_NOT_AI_THING_NOUN, 0, noun_end
        ):
            continue
        # a name with its other-language form in brackets: 「藥倍安心（Medisafe）」 names it twice
        quoted = _BRACKETED_FORM.fullmatch(match.group(1))
        forms = [(quoted.group(i), match.start(1) + quoted.start(i)) for i in (1, 2)] if quoted else []
        for name, start in forms or [(match.group(1), match.start(1))]:
            if not name.endswith(_ZH_PROGRAMME_ENDING_WORDS) and not _ZH_NOT_PROGRAMME.search(name):
                keep(name, "product", start)
    for match in _EN_AI_THING.finditer(text) if capitalised and ('"' in text or "“" in text) else ():
        cue = _EN_AI_THING_BEFORE.search(text, max(0, match.start() - 30), match.start())
        if cue and (
            cue.group("noun")  # "chatbot called …", "model "Fengwu""
            or _EN_AI_THING_NEAR.search(text, max(0, match.start() - 80), match.end() + 80)
        ):
            keep(match.group(1), "product", match.start(1))
    # English names in the body only: a headline capitalises every word ("HKMA and Cyberport Launch
    # GenAI Sandbox")
    has_programme_word = capitalised and any(word in latin for word in _EN_PROGRAMME_WORDS)
    for match in _EN_PROGRAMME.finditer(body) if has_programme_word else ():
        name = match.group(1)
        while _EN_NOT_PROGRAMME.match(name):  # "Through the GenA.I. Sandbox": drop each leading word
            name = _EN_NOT_PROGRAMME.sub("", name, count=1)
        words = name.split()
        if words[-1] in _EN_PRODUCT_MIN_WORDS and (". " in name or any(w[:1].islower() for w in words)):
            continue  # a named system is capitalised throughout ("Heading to System Preferences" is not)
        if (
            len(words) >= _EN_PRODUCT_MIN_WORDS.get(words[-1], 2)
            and words[0][:1].isupper()
            and words[0] not in ("of", "and", "for")
        ):
            kind = _EN_PROGRAMME_TYPES.get(words[-1], "programme")
            keep(name, kind, len(title) + 2 + match.start(1) + match.group(1).index(name))
    if organisations:
        # cheap substring checks first, as above: each pattern is tried only where its cue can be
        cued = (
            (_EN_COMPANY_BEFORE, any(word in latin for word in _EN_COMPANY_CUES)),
            (_EN_COMPANY_APPOSITION, b", a" in latin),
            (_ZH_COMPANY_AFTER, chinese and any(word in text for word in _ZH_COMPANY_CUES)),
        )
        for regex in (regex for regex, present in cued if present):
            for match in regex.finditer(text):
                for name in _company_names(match.group(1)):
                    keep(name, "company", text.index(name, match.start(1)))
        for match in _ZH_COMPANY_BEFORE.finditer(text) if chinese else ():
            kind = "product" if match.group(1) in _ZH_PRODUCT_CUES else "company"
            for name in _company_names(match.group(2)):
                keep(name, kind, text.index(name, match.start(2)))
    for match in _ZH_ORG.finditer(text) if organisations and chinese else ():
        # the name starts after the last preposition or conjunction of the run ("用地由…有限公司")
        name = _ZH_BEFORE_ORG.split(match.group(1))[-1]
        if len(name) >= 4 and not _ZH_NOT_ORG.search(name):
            keep(name, organisation_type(name), match.end(1) - len(name))
    if len(found) > 1:
        found = _without_fragments(found)
    return found


def _without_fragments(found: dict[tuple[str, str], set[int]]) -> dict[tuple[str, str], set[int]]:
    """Candidates that are not only pieces of a longer candidate: "Digital Education Centre" (by the
    organisation suffix) inside "Digital Education Centre of Excellence Scheme" (a programme)."""
    spans = [(start, start + len(name)) for (name, _), starts in found.items() for start in starts]

    def inside_longer(name: str, start: int) -> bool:
        end = start + len(name)
        return any(s <= start and end <= e and e - s > len(name) for s, e in spans)

    return {key: starts for key, starts in found.items() if not all(inside_longer(key[0], s) for s in starts)}
