"""The knowledge base as data: entities (entities/*.yaml) and topic vocabulary (vocab.yaml)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import yaml

KB_DIR = Path(__file__).resolve().parent
ENTITY_TYPES = (
    "company",
    "university",
    "research-institute",
    "government-body",
    "organisation",
    "programme",
    "person",
    "product",
)
# Types whose presence gives a story a Hong Kong angle (most KB companies and products are global).
LOCAL_TYPES = {"university", "research-institute", "government-body", "organisation", "programme"}
_HK_MARK = re.compile(r"Hong Kong|香港|HKSAR|特區|\bHK|\bHKU|港")
_ELSEWHERE = re.compile(
    r"Singapore|新加坡|Maca[ou]|澳門|Taiwan|台灣|臺灣|Shenzhen|深圳|Guangdong|廣東|Beijing|北京|Shanghai|上海|"
    r"China|中國|中国|國家|国家|State Council|國務院|国务院|People's|United States|U\.S\.|美國|Japan|日本|Korea|韓國|"
    r"Europe|England|英倫|英格蘭|Seoul|首爾|南韓|Yonsei|延世|Federal|聯邦|White House|白宮|Science and Technology Policy|歐盟|United Kingdom|英國|Microsoft|Google|Amazon|OpenAI|Nvidia|Apple|Tesla|Meta\b"
)
_FOREIGN_TLDS = {
    "sg",
    "kr",
    "uk",
    "jp",
    "tw",
    "mo",
    "cn",
    "eu",
    "de",
    "fr",
    "au",
    "in",
    "gov",
    "us",
    "ca",
    "mil",
}
_MINISTRY = re.compile(r"部$")  # mainland ministries (商務部); Hong Kong bodies are 局, 署, 處, 辦, 會
_HK_ROLE = re.compile(
    r"Secretary for|Chief Secretary|Financial Secretary|Chief Executive of|Legislative Council|"
    r"Under Secretary|Commissioner for|HKMA|SFC|Cyberport|HKSTP|HKUST|CUHK|HKU\b|PolyU|CityU"
)


@dataclass(frozen=True)
class KbEntity:
    id: str
    name: str
    type: str
    zh_hant: str | None = None
    zh_hans: str | None = None
    aliases: tuple[str, ...] = ()
    ambiguous_aliases: tuple[str, ...] = ()
    context: tuple[str, ...] = ()
    parent: str | None = None
    source: str | None = None
    uncertain: bool = False
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def hk_local(self) -> bool:
        """Whether naming this entity gives a story a Hong Kong angle.

        An explicit `hk:` in the KB wins. Otherwise: people by their role (HK offices and bodies;
        core entries without a role are HK officials), organisations only with a Hong Kong marker in a
        name, and other local types unless a name points elsewhere (Singapore, the mainland, a ministry).
        """
        if "hk" in self.extra:
            return bool(self.extra["hk"])
        text = " ".join(filter(None, [self.name, self.zh_hant or "", *self.aliases]))
        if self.type == "person":
            role = str(self.extra.get("role") or "")
            if not role:
                return True
            return bool(_HK_MARK.search(role) or _HK_ROLE.search(role)) and not _ELSEWHERE.search(role)
        if self.type == "organisation":
            return bool(_HK_MARK.search(text)) and not _ELSEWHERE.search(self.name)
        if self.type in LOCAL_TYPES:
            return not (
                _ELSEWHERE.search(text) or _MINISTRY.search(self.zh_hant or "") or self._foreign_source
            )
        return False

    @property
    def _foreign_source(self) -> bool:
        """The fact's source is a national site elsewhere (.sg, .kr, .uk, US .gov...)."""
        match = re.match(r"https?://([^/]+)", str(self.source or ""))
        return match is not None and match.group(1).lower().rsplit(".", 1)[-1] in _FOREIGN_TLDS

    @cached_property
    def names(self) -> tuple[str, ...]:
        """Every unambiguous surface form: canonical name, Chinese names and aliases."""
        forms = [self.name, self.zh_hant or "", self.zh_hans or "", *self.aliases]
        return tuple(dict.fromkeys(f.strip() for f in forms if f and f.strip()))


_HAN_CHAR = re.compile(r"[\u3400-\u9fff]")
_EN_COMPANY_SUFFIX = re.compile(r",? (?:Company Limited|Co\., Ltd\.|Limited|Ltd\.?)$")
_EN_QUALIFIER = re.compile(r" \((?:Hong Kong|HK|HKSAR|Hong Kong SAR)\)$")
_ZH_COMPANY_SUFFIX = ("有限公司", "公司")


# A Chinese form made only of words that name a kind of body, not one body: 香港航空公司 without its city is
# "airline", 國際數據公司 without its legal form is "international data", 香港人工智能實驗室 "AI lab".
_GENERIC_ZH_WORDS = (
    "航空|公司|國際|數據|人工智能|實驗室|研究|中心|科技|電視|電台|大學|銀行|保險|證券|協會|基金|集團|控股|投資|"
    "發展|管理|服務|創新|數碼|醫院|學院|物流|電訊|網絡|資訊|金融|商會|總會|學會|有限|工程|顧問|地產|能源|電力|電子|"
    "通訊|媒體|傳媒|新聞|出版|教育|醫療|健康|生物|製藥|交易所|交易|結算|資本|財務|信託"
)
# the same words in Simplified script, for the variants of a `zh_hans` name (国际数据公司 → 国际数据)
_GENERIC_ZH_WORDS_HANS = (
    "国际|数据|实验室|电视|电台|大学|银行|保险|证券|协会|集团|投资|发展|服务|创新|数码|医院|学院|电讯|网络|"
    "资讯|商会|总会|学会|工程|顾问|电力|电子|通讯|传媒|新闻|医疗|制药|交易所|结算|资本|财务|信托"
)
_GENERIC_ZH_NAME = re.compile(f"^(?:{_GENERIC_ZH_WORDS}|{_GENERIC_ZH_WORDS_HANS})+$")


def name_variants(entity: KbEntity) -> tuple[str, ...]:
    """Forms of an entity's names that news writes but the knowledge base does not list: with or
    without the legal suffix (東亞銀行有限公司, "Hong Kong Exchanges and Clearing Limited"), with
    or without the city prefix of a Hong Kong body (香港數碼港, "Hong Kong Cyberport", 科技園公司),
    and without a disambiguating "(Hong Kong)" the KB adds to a name ("Land Registry").

    Rules over the form of a name, not a list: they apply to every entry alike. People are left
    alone, and a stripped form must stay long enough to be a name (four Chinese characters, two
    English words), so no variant is a generic word (交易所, "Treasury")."""
    if entity.type == "person":
        return ()
    hk_body = (
        entity.hk_local
        or entity.type == "company"
        and any(n.startswith(("香港", "Hong Kong")) for n in entity.names)
    )
    company = entity.type in ("company", "organisation")
    variants: list[str] = []
    for form in entity.names:
        if _HAN_CHAR.search(form):
            # Hong Kong writes 機械人 where the mainland writes 機器人 (智元機器人, HK: 智元機械人)
            if "機械人" in form:
                variants.append(form.replace("機械人", "機器人"))
            elif "機器人" in form or "机器人" in form:
                variants.append(form.replace("機器人", "機械人").replace("机器人", "機械人"))
            if form.startswith("香港") and len(form) - 2 >= 4:
                variants.append(form[2:])
            elif hk_body and "香港" not in form and not form.startswith("港") and len(form) >= 3:
                variants.append("香港" + form)
            if company:
                for suffix in _ZH_COMPANY_SUFFIX:
                    if form.endswith(suffix):
                        stem = form[: -len(suffix)]
                        # 恒生指數有限公司 → 恒生指數 names the index, which the guide leaves untagged
                        if len(stem) >= 4 and not stem.endswith(("指數", "指数")):
                            variants.append(stem)
                        break
                else:
                    if len(form) >= 2 and entity.type == "company":
                        variants.append(form + "有限公司")
        elif form[:1].isupper() and " " in form or len(form) >= 6 and form[:1].isupper():
            qualified = _EN_QUALIFIER.search(form)
            if qualified and form[: qualified.start()].count(" ") >= 1:
                variants.append(form[: qualified.start()])
            legal = _EN_COMPANY_SUFFIX.search(form)
            if legal and company:
                stem = form[: legal.start()]
                if stem.count(" ") >= 1:
                    variants.append(stem)
            elif entity.type == "company" and not form.isupper():
                variants.append(form + " Limited")
            if (
                hk_body
                and "Hong Kong" not in form
                and not form.startswith(("The ", "HK"))
                and not form.isupper()
            ):
                variants.append("Hong Kong " + form)
    known = {fold_key(n) for n in entity.names} | {fold_key(a) for a in entity.ambiguous_aliases}
    return tuple(
        dict.fromkeys(v for v in variants if fold_key(v) not in known and not _GENERIC_ZH_NAME.match(v))
    )


def fold_key(text: str) -> str:
    """Case- and space-insensitive key for comparing name forms within one entry."""
    return " ".join(text.lower().split())


def _load_yaml(text: str) -> Any:
    """Safe YAML loading, with the C parser when PyYAML was built with libyaml (several times faster)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader either way


class KnowledgeBaseError(ValueError):
    """A KB file is malformed: the message names the file and the entry."""


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value if v is not None and str(v).strip())


log = logging.getLogger(__name__)


def _parsed_files(paths: list[Path], cached: bool = True) -> list[tuple[Path, Any]]:
    """Each YAML file parsed. Parsing 3,700 entries takes ~0.2 s, so the parsed data of the checked-in
    knowledge base is kept as JSON (~5 ms to read) in `__pycache__`, keyed by the files' names and
    bytes: any edit to a file is a new key. Without a writable `__pycache__` the files are parsed
    each time."""
    contents = [path.read_bytes() for path in paths]
    if not cached:
        return [
            (path, _load_yaml(content.decode("utf-8"))) for path, content in zip(paths, contents, strict=True)
        ]
    digest = hashlib.sha256()
    for path, content in zip(paths, contents, strict=True):
        digest.update(path.name.encode() + b"\0" + content + b"\0")
    cache = KB_DIR / "__pycache__" / f"entities-{digest.hexdigest()[:20]}.json"
    try:
        return list(zip(paths, json.loads(cache.read_text(encoding="utf-8")), strict=True))
    except (OSError, ValueError):
        pass
    parsed = [_load_yaml(content.decode("utf-8")) for content in contents]
    try:
        text = json.dumps(parsed, ensure_ascii=False)
        if json.loads(text) == parsed:  # only plain data round-trips (a YAML date would not)
            cache.parent.mkdir(exist_ok=True)
            for stale in cache.parent.glob("entities-*.json"):  # one cache: the last files parsed
                stale.unlink(missing_ok=True)
            partial = cache.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(text, encoding="utf-8")
            partial.replace(cache)  # atomic: a concurrent reader sees the whole file or none
    except (OSError, TypeError, ValueError) as error:
        log.debug("knowledge-base parse cache not written: %s", error)
    return list(zip(paths, parsed, strict=True))


MAX_ID_LENGTH = 120  # warehouse.models.Entity.id
MAX_NAME_LENGTH = 300  # Entity.name, zh_hant, zh_hans


def load_entities(directory: Path | None = None) -> dict[str, KbEntity]:
    """Load and validate every entities/*.yaml file; ids must be unique and parents must exist."""
    default = KB_DIR / "entities"
    directory = directory or default
    entities: dict[str, KbEntity] = {}
    known = {
        "id",
        "name",
        "type",
        "zh_hant",
        "zh_hans",
        "aliases",
        "ambiguous_aliases",
        "context",
        "parent",
        "source",
        "uncertain",
    }
    for path, records in _parsed_files(sorted(directory.glob("*.yaml")), cached=directory == default):
        records = records or []
        if not isinstance(records, list):
            raise KnowledgeBaseError(f"{path.name}: expected a list of entries")
        for record in records:
            if not isinstance(record, dict) or not record.get("id") or not record.get("name"):
                raise KnowledgeBaseError(f"{path.name}: entry without id or name: {record!r}")
            entity_id = str(record["id"])
            if entity_id in entities:
                raise KnowledgeBaseError(f"{path.name}: duplicate id {entity_id!r}")
            stray = [k for k, v in record.items() if k not in known and v is None]
            if stray:
                raise KnowledgeBaseError(
                    f"{path.name}: {entity_id}: key(s) {stray} without value (unquoted comma?)"
                )
            if record.get("type") not in ENTITY_TYPES:
                raise KnowledgeBaseError(f"{path.name}: {entity_id}: unknown type {record.get('type')!r}")
            # the warehouse's `entities` columns (PostgreSQL enforces their lengths; SQLite does not)
            too_long = [
                key
                for key, limit in (
                    ("id", MAX_ID_LENGTH),
                    ("name", MAX_NAME_LENGTH),
                    ("zh_hant", MAX_NAME_LENGTH),
                )
                if len(str(record.get(key) or "")) > limit
            ]
            if too_long:
                raise KnowledgeBaseError(
                    f"{path.name}: {entity_id[:40]}…: {too_long} longer than the warehouse keeps"
                )
            entities[entity_id] = KbEntity(
                id=entity_id,
                name=str(record["name"]),
                type=str(record["type"]),
                zh_hant=record.get("zh_hant") or None,
                zh_hans=record.get("zh_hans") or None,
                aliases=_as_tuple(record.get("aliases")),
                ambiguous_aliases=_as_tuple(record.get("ambiguous_aliases")),
                context=_as_tuple(record.get("context")),
                parent=record.get("parent") or None,
                source=record.get("source"),
                uncertain=bool(record.get("uncertain", False)),
                extra={k: v for k, v in record.items() if k not in known},
            )
    missing = {e.parent for e in entities.values() if e.parent and e.parent not in entities}
    if missing:
        raise KnowledgeBaseError(f"unknown parent id(s): {', '.join(sorted(missing))}")
    return entities


@lru_cache(maxsize=1)
def load_vocab() -> dict[str, Any]:
    return _load_yaml((KB_DIR / "vocab.yaml").read_text(encoding="utf-8"))
