"""Generate ``mixed-demo.jsonl``: a realistic mixed set of marketplace records for the demo.

Deterministic (``random.Random(7)``, a fixed anchor time): running it again gives the same file.
One line per record, ``{"source": "...", "record": {...}}``, each record in its marketplace's
own export shape (see ``chalicelib/marketplaces/README.md``). A demo runner groups the lines by
source into batches (≤ 500 records each) and puts them on the import queue.

Composition of the 300 lines:

- 279 distinct valid complaints — Tmall ~40 %, JD ~30 %, Amazon ~20 %, generic ~10 %; Chinese
  and English text; every category; personal-safety ones (变质, 过敏, 漏电, 起火, 过期 …),
  high-value orders (≥ 1,000 and ≥ 10,000 CNY), threats to go public (12315, 曝光 …), some
  second complaints on the same order, some reasons the adapters do not know (left to triage);
- 6 re-sent duplicates of earlier records (same marketplace dispute id: the exporter retried);
- 15 invalid records (5 %): missing order id or dispute id, unparseable time, negative amount,
  Amazon amount without currency, generic record with an unknown field.

Times are spread over the two hours before the anchor (``2026-11-22T08:00:00Z``), so a demo run
with SLA clocks starting at the anchor has some P1 clocks already breached and none of the others.
``--anchor now`` (or an ISO time) shifts them, e.g. to run the demo against the current clock:

    python tests/data/imports/make_demo.py                       # rewrite the committed file
    python tests/data/imports/make_demo.py --anchor now --out /tmp/demo.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

SEED = 7
DEFAULT_ANCHOR = datetime(2026, 11, 22, 8, 0, 0, tzinfo=UTC)
OUT = Path(__file__).with_name("mixed-demo.jsonl")
TOTAL = 300
INVALID = 15
DUPLICATES = 6
SPREAD_MINUTES = 120
BEIJING = timezone(timedelta(hours=8))
CNY_PER = {"USD": Decimal("7.20"), "EUR": Decimal("7.80"), "GBP": Decimal("9.10")}

# (source, share of the distinct records)
SOURCES = (("tmall", 0.40), ("jd", 0.30), ("amazon", 0.20), ("generic", 0.10))


@dataclass(frozen=True)
class Product:
    name_zh: str
    name_en: str
    sku: str
    kind: str
    low: int  # price range in CNY
    high: int


@dataclass(frozen=True)
class Scenario:
    key: str
    category: str
    weight: int
    products: tuple[Product, ...]
    zh: tuple[str, ...]
    en: tuple[str, ...]


P = Product
FOOD = (
    P("风味发酵乳 200g*12盒", "Yogurt drink 12-pack", "FOOD-YOG-12", "food", 39, 69),
    P("全麦吐司面包", "Whole wheat bread", "FOOD-BRD-01", "food", 15, 29),
    P("进口纯牛奶 1L*12", "Whole milk 1L x12", "FOOD-MLK-12", "food", 79, 129),
    P("坚果礼盒 1.5kg", "Mixed nuts gift box", "FOOD-NUT-15", "food", 129, 299),
)
COSMETICS = (
    P("保湿修护面霜 50ml", "Moisturizing face cream 50ml", "COS-CRM-50", "cosmetics", 168, 680),
    P("丝绒哑光口红", "Velvet matte lipstick", "COS-LIP-07", "cosmetics", 99, 380),
    P("玻尿酸补水面膜 10片", "Hyaluronic sheet masks x10", "COS-MSK-10", "cosmetics", 59, 199),
)
APPLIANCES = (
    P("电热水壶 1.7L", "Electric kettle 1.7L", "APP-KTL-17", "home", 99, 299),
    P("电热毯 双人", "Electric blanket, double", "APP-BLK-02", "home", 129, 399),
    P("20000mAh 充电宝", "20000mAh power bank", "ELE-PWB-20", "electronics", 99, 299),
    P("电热水器 60升", "Electric water heater 60L", "APP-WHT-60", "home", 1599, 3299),
    P("油汀电暖器 13片", "Oil-filled radiator heater", "APP-HTR-13", "home", 399, 1299),
)
MEDICINE = (
    P("感冒灵颗粒 10袋", "Cold relief granules x10", "MED-CLD-10", "medicine", 19, 49),
    P("复合维生素片 100片", "Multivitamin tablets x100", "MED-VIT-100", "medicine", 89, 299),
)
HOME = (
    P("玻璃水杯 450ml", "Glass tumbler 450ml", "HOME-CUP-45", "home", 29, 129),
    P("实木书桌 1.2m", "Solid wood desk 1.2m", "HOME-DSK-12", "home", 899, 2599),
    P("纯棉四件套", "Cotton bedding set", "HOME-BED-4", "home", 199, 699),
    P("陶瓷餐具套装", "Ceramic dinnerware set", "HOME-DIN-24", "home", 159, 599),
)
APPAREL = (
    P("羊毛混纺大衣", "Wool blend coat", "APP-COAT-M", "apparel", 399, 1599),
    P("轻量跑步鞋", "Lightweight running shoes", "APP-RUN-42", "apparel", 299, 899),
)
ELECTRONICS = (
    P("无线降噪耳机", "Wireless noise-cancelling headphones", "ELE-HP-ANC", "electronics", 399, 2499),
    P("27英寸 4K 显示器", "27-inch 4K monitor", "ELE-MON-27", "electronics", 1499, 3999),
)
HIGH_VALUE = (
    P("轻薄笔记本电脑 16英寸 32G+1T", "16-inch laptop 32GB/1TB", "ELE-LAP-16", "electronics", 8999, 16999),
    P("旗舰手机 1TB", "Flagship phone 1TB", "ELE-PHN-1T", "electronics", 7999, 13999),
    P("真皮手提包", "Genuine leather handbag", "LUX-BAG-01", "apparel", 9800, 25800),
    P("对开门冰箱 610升", "French-door refrigerator 610L", "APP-FRG-610", "electronics", 4999, 13999),
)
GOODS = HOME + APPAREL + ELECTRONICS

SCENARIOS = (
    Scenario(
        "quality_apparel",
        "product_quality",
        5,
        APPAREL + HIGH_VALUE[2:3],
        ("穿了一次就开线了，做工太差", "才用两周就开胶了", "五金件掉漆，肩带也断了", "洗了一次就严重缩水变形"),
        ("The stitching came apart after one wash.", "It fell apart after two weeks of normal use."),
    ),
    Scenario(
        "quality_electronics",
        "product_quality",
        7,
        ELECTRONICS + HIGH_VALUE[:2],
        ("用了一周就坏了，开不了机", "充不进电，一直自动重启", "屏幕有三个坏点，开机还有异响", "用了两天就黑屏了"),
        (
            "Stopped working after three days.",
            "Dead pixels on the screen out of the box.",
            "It won't charge and keeps rebooting.",
        ),
    ),
    Scenario(
        "quality_home",
        "product_quality",
        4,
        HOME,
        ("做工很差，边缘有毛刺还有裂纹", "洗一次就掉色起球", "用了没几天就松动了", "表面有划痕和黑点，像是次品"),
        ("Poor build quality, rough edges and a crack.", "It faded and pilled after one wash."),
    ),
    Scenario(
        "fridge",
        "product_quality",
        2,
        HIGH_VALUE[3:],
        ("冰箱不制冷，里面的东西全坏了", "冰箱噪音特别大，冷藏室还结冰"),
        ("The fridge stopped cooling and all the food went bad.",),
    ),
    Scenario(
        "spoiled_food",
        "product_quality",
        6,
        FOOD,
        (
            "打开有酸味，已经变质了",
            "里面有霉点，吃了一口才发现",
            "胀袋了，打开一股臭味，已经变质",
            "有哈喇味，吃完肚子疼了一晚上",
        ),
        ("It was spoiled when it arrived, it smelled sour.", "Found mold on it after my kid ate some."),
    ),
    Scenario(
        "allergy",
        "product_quality",
        5,
        COSMETICS,
        ("用了以后脸又红又痒，过敏很严重", "涂完嘴唇肿了，过敏去了医院", "用完起了一脸红疹，过敏了"),
        (
            "Severe allergic reaction after using this, my skin is burning.",
            "My face swelled up after one use, had to see a doctor.",
        ),
    ),
    Scenario(
        "electric",
        "product_quality",
        6,
        APPLIANCES,
        (
            "用的时候漏电，手碰到外壳被电了一下",
            "通电时突然冒烟起火了",
            "晚上用着漏电，被电醒了",
            "插头烧焦了，差点起火",
            "外壳发烫，有焦糊味还冒烟",
        ),
        ("Got an electric shock from it.", "It caught fire while plugged in.", "The plug melted and started smoking."),
    ),
    Scenario(
        "expired",
        "product_quality",
        3,
        MEDICINE + COSMETICS,
        ("收到的已经过期两个月了", "生产日期是三年前的，早就过期了", "过期了还在卖，外包装日期被涂改过"),
        ("It expired last month.", "The expiry date on the box has passed."),
    ),
    Scenario(
        "not_as_described",
        "not_as_described",
        11,
        GOODS + HIGH_VALUE,
        ("颜色和详情页差太多", "尺寸比描述小了一圈", "实物和图片完全不一样", "材质和描述的不一样，做工也差很多"),
        (
            "The color is completely different from the photos.",
            "Much smaller than the listed dimensions.",
            "The material is not what the listing says.",
        ),
    ),
    Scenario(
        "counterfeit",
        "counterfeit",
        6,
        HIGH_VALUE[:3] + COSMETICS,
        ("专柜验货说是假货", "防伪码查不到，怀疑是假冒品牌", "和正品对比明显是仿的"),
        ("This is clearly a fake, the logo is wrong.", "The serial number doesn't exist on the brand's site."),
    ),
    Scenario(
        "delay",
        "delivery_delay",
        10,
        GOODS + FOOD + HIGH_VALUE[3:],
        ("下单一周了还没发货", "物流三天没更新了", "说好次日达，四天了还没到"),
        ("Still not shipped after a week.", "Tracking hasn't updated in five days."),
    ),
    Scenario(
        "damaged",
        "damaged_in_transit",
        12,
        GOODS + APPLIANCES,
        (
            "快递到的时候已经碎了",
            "箱子被压扁了，东西摔坏了",
            "外包装破了，里面的东西有裂痕",
            "到手就有一块凹陷，明显是运输摔的",
        ),
        ("Box was crushed and the item arrived broken.", "It arrived cracked, the packaging was torn."),
    ),
    Scenario(
        "lost",
        "lost_parcel",
        9,
        GOODS + HIGH_VALUE,
        ("物流显示已签收但我没收到", "快递丢件了，快递员说找不到", "包裹是空的，什么都没有"),
        ("Tracking says delivered but nothing arrived at my door.", "The package was lost in transit."),
    ),
    Scenario(
        "after_sales",
        "after_sales",
        8,
        GOODS,
        ("七天无理由退货，卖家一直不同意", "退货寄回去十天了还没退款", "发票一直不给开"),
        ("Returned the item two weeks ago, still no refund.", "I want to return it, I no longer need it."),
    ),
    Scenario(
        "promotion",
        "promotion_rules",
        5,
        GOODS,
        ("满300减50的优惠没算上", "说好的赠品没有收到", "双十一买完第二天就降价了，要求价保"),
        ("The coupon wasn't applied at checkout.", "The free gift promised in the listing was missing."),
    ),
    Scenario(
        "attitude",
        "service_attitude",
        3,
        GOODS,
        ("客服态度很差，直接挂我电话", "客服一直不回消息，敷衍了事"),
        ("The seller was rude and ignored my messages.",),
    ),
)
THREATS_ZH = ("再不处理我就打12315投诉", "不解决我就发微博曝光", "我已经联系消协了")
THREATS_EN = ("If this isn't fixed I'm reporting you to consumer protection.",)

# what each marketplace calls the category (the generator's own view of their exports)
TMALL_REASONS = {
    "product_quality": ("质量问题", "做工问题", "商品质量问题"),
    "not_as_described": ("描述不符", "颜色/图案/款式与商品描述不符", "材质与商品描述不符"),
    "counterfeit": ("假冒品牌",),
    "delivery_delay": ("未按约定时间发货", "卖家虚假发货"),
    "damaged_in_transit": ("商品破损", "包装/商品破损/污渍"),
    "lost_parcel": ("未收到货", "快递/物流一直未送到", "空包裹"),
    "after_sales": ("七天无理由退换货", "退运费"),
    "promotion_rules": ("赠品未收到", "价格保护"),
    "service_attitude": ("服务态度差",),
}
TMALL_FOOD_REASON = "商品变质/发霉/有异物"
JD_REASONS = {
    "product_quality": ("质量问题", "性能故障"),
    "not_as_described": ("与商品描述不符", "发错货"),
    "counterfeit": ("假冒商品",),
    "delivery_delay": ("配送超时",),
    "damaged_in_transit": ("商品破损", "运输破损"),
    "lost_parcel": ("未收到货", "少件/漏发"),
    "after_sales": ("七天无理由退货", "发票问题"),
    "promotion_rules": ("价格保护", "赠品未收到"),
    "service_attitude": ("服务态度差",),
}
JD_IDS = {
    "product_quality": 1001,
    "damaged_in_transit": 1002,
    "not_as_described": 1003,
    "lost_parcel": 1004,
    "counterfeit": 1005,
    "after_sales": 1006,
    "delivery_delay": 1007,
}
AMAZON_REASONS = {
    "product_quality": ("DEFECTIVE", "CR-DEFECTIVE", "CR-QUALITY_UNACCEPTABLE"),
    "not_as_described": ("ITEM_NOT_AS_DESCRIBED", "AMZ-PG-BAD-DESC"),
    "counterfeit": ("COUNTERFEIT",),
    "delivery_delay": ("LATE_DELIVERY", "CR-MISSED_ESTIMATED_DELIVERY"),
    "damaged_in_transit": ("DAMAGED", "CR-DAMAGED_BY_CARRIER"),
    "lost_parcel": ("ITEM_NOT_RECEIVED",),
    "after_sales": ("RETURN_REFUND_NOT_RECEIVED", "CR-UNWANTED_ITEM"),
    "promotion_rules": ("PROMOTION_NOT_APPLIED",),  # not in the table: triage reads the text
    "service_attitude": ("SELLER_UNRESPONSIVE",),  # not in the table either
}
UNKNOWN_TMALL = ("其他", "不喜欢/效果不好", "商品有异味", "尺码不合适")
UNKNOWN_JD = ("其他", "使用问题")
GENERIC_OUTCOMES = ("refund", "return", "exchange", "compensation", "explanation")


def _alnum(rng: random.Random, n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _price(rng: random.Random, product: Product) -> Decimal:
    """A shop-like price in CNY: 129.00, 129.90, 129.99 or 129.50."""
    cents = rng.choice((Decimal("0.00"), Decimal("0.90"), Decimal("0.99"), Decimal("0.50")))
    return Decimal(rng.randint(product.low, product.high)) + cents


class _Gen:
    def __init__(self, anchor: datetime) -> None:
        self.rng = random.Random(SEED)
        self.anchor = anchor
        self.counter = 0
        self.orders: dict[str, list[Any]] = {"tmall": [], "jd": [], "amazon": [], "generic": []}
        self.buyers: dict[str, list[str]] = {"tmall": [], "jd": [], "amazon": [], "generic": []}

    def when(self) -> datetime:
        seconds = self.rng.randint(60, SPREAD_MINUTES * 60)
        return (self.anchor - timedelta(seconds=seconds)).replace(microsecond=0)

    def buyer(self, source: str, fresh: Callable[[], object]) -> str:
        pool = self.buyers[source]
        if pool and self.rng.random() < 0.25:
            return self.rng.choice(pool)
        buyer = str(fresh())
        pool.append(buyer)
        return buyer

    def order(self, source: str, fresh: Callable[[], Any]) -> Any:
        pool = self.orders[source]
        if pool and self.rng.random() < 0.04:  # a second complaint on the same order
            return self.rng.choice(pool)
        order = fresh()
        pool.append(order)
        return order

    def scenario(self) -> Scenario:
        return self.rng.choices(SCENARIOS, weights=[s.weight for s in SCENARIOS])[0]

    def text(self, scenario: Scenario, lang: str) -> str:
        rng = self.rng
        if lang == "zh":
            text = rng.choice(scenario.zh)
            if rng.random() < 0.08:
                text += "，" + rng.choice(THREATS_ZH)
            return text
        text = rng.choice(scenario.en)
        if rng.random() < 0.08:
            text += " " + rng.choice(THREATS_EN)
        return text

    # ------------------------------------------------------------------ one per source

    def tmall(self, n: int) -> dict[str, Any]:
        rng, sc = self.rng, self.scenario()
        product = rng.choice(sc.products)
        price = _price(rng, product)
        if rng.random() < 0.1:
            reason = rng.choice(UNKNOWN_TMALL)
        elif sc.key == "spoiled_food":
            reason = TMALL_FOOD_REASON
        else:
            reason = rng.choice(TMALL_REASONS[sc.category])
        returns = sc.category in ("product_quality", "not_as_described", "counterfeit", "after_sales")
        dispute_type = "REFUND_AND_RETURN" if returns and rng.random() < 0.6 else "REFUND"
        created = self.when().astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
        desc = self.text(sc, "zh") if rng.random() < 0.93 else ""
        uid = self.buyer("tmall", lambda: "AA" + _alnum(rng, 22))
        return {
            "refund_id": str(201935784512000000 + n * 37 + rng.randint(0, 30)),
            "tid": self.order("tmall", lambda: 3894728374620000000 + rng.randint(0, 9_999_999)),
            "buyer_open_uid": uid,
            "buyer_nick": uid[2] + "**" + uid[-1],
            "status": "WAIT_SELLER_AGREE",
            "refund_phase": "aftersale",
            "dispute_type": dispute_type,
            "has_good_return": dispute_type == "REFUND_AND_RETURN",
            "reason": reason,
            "desc": desc,
            "total_fee": f"{price:.2f}",
            "refund_fee": f"{price:.2f}",
            "created": created,
            "title": product.name_zh,
            "num_iid": 652384700000 + rng.randint(0, 99999),
            "outer_id": product.sku,
        }

    def jd(self, n: int) -> dict[str, Any]:
        rng, sc = self.rng, self.scenario()
        product = rng.choice(sc.products)
        price = _price(rng, product)
        moment = self.when()
        record: dict[str, Any] = {
            "afsServiceId": 1853900000 + n * 29 + rng.randint(0, 20),
            "afsApplyId": 906600000 + n,
            "orderId": self.order("jd", lambda: 301234000000 + rng.randint(0, 999_999)),
            "customerPin": self.buyer("jd", lambda: "jd_" + _alnum(rng, 12, "0123456789abcdef")),
            "customerMobilePhone": f"1{rng.randint(30, 89)}****{rng.randint(0, 9999):04d}",
            "customerExpect": rng.choice((10, 10, 10, 20, 30)),
        }
        roll = rng.random()
        if roll < 0.08:
            record["questionTypeName"] = rng.choice(UNKNOWN_JD)
        elif roll < 0.25 and sc.category in JD_IDS:
            record["questionTypeCid1"] = JD_IDS[sc.category]
        else:
            record["questionTypeName"] = rng.choice(JD_REASONS[sc.category])
        record["questionDesc"] = self.text(sc, "zh")
        if rng.random() < 0.5:
            record["applyTime"] = int(moment.timestamp()) * 1000
        else:
            record["applyTime"] = moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
        record["wareId"] = 100000000000 + rng.randint(0, 99_999_999)
        record["wareName"] = product.name_zh
        record["payPrice"] = f"{price:.2f}"
        return record

    def amazon(self, n: int) -> dict[str, Any]:
        rng, sc = self.rng, self.scenario()
        product = rng.choice(sc.products)
        currency = rng.choices(("USD", "EUR", "GBP"), weights=(8, 1, 1))[0]
        amount = (_price(rng, product) / CNY_PER[currency]).quantize(Decimal("0.01"))
        moment = self.when()
        offset = rng.choice(("Z", "-08:00", "+00:00"))
        if offset == "-08:00":
            claim_date = moment.astimezone(timezone(timedelta(hours=-8))).isoformat()
        else:
            claim_date = moment.isoformat().replace("+00:00", offset)
        record: dict[str, Any] = {
            "a-to-z-claim-id": str(9876500000000 + n * 41 + rng.randint(0, 40)),
            "amazon-order-id": self.order(
                "amazon",
                lambda: f"11{rng.randint(1, 4)}-{rng.randint(0, 9_999_999):07d}-{rng.randint(0, 9_999_999):07d}",
            ),
            "buyer-id": self.buyer("amazon", lambda: "A" + _alnum(rng, 13, string.ascii_uppercase + string.digits)),
            "buyer-email": _alnum(rng, 12, string.ascii_lowercase + string.digits) + "@marketplace.amazon.com",
            "claim-reason": rng.choice(AMAZON_REASONS[sc.category]),
            "claim-amount": f"{amount:.2f}",
            "currency": currency,
            "claim-date": claim_date,
            "claim-status": "OPEN",
            "asin": "B0" + _alnum(rng, 8, string.ascii_uppercase + string.digits),
            "sku": product.sku,
            "item-name": product.name_en,
        }
        if rng.random() < 0.85:
            record["buyer-comments"] = self.text(sc, "en")
        return record

    def generic(self, n: int) -> dict[str, Any]:
        rng, sc = self.rng, self.scenario()
        product = rng.choice(sc.products)
        lang = "zh" if rng.random() < 0.6 else "en"
        record: dict[str, Any] = {
            "external_id": f"WS-2026-{100000 + n:06d}",
            "raised_at": self.when().isoformat().replace("+00:00", "Z"),
            "customer_id": self.buyer("generic", lambda: f"C-{rng.randint(1000, 9999)}"),
            "order_id": self.order("generic", lambda: f"O-20261122-{rng.randint(0, 9999):04d}"),
            "desired_outcome": rng.choice(GENERIC_OUTCOMES),
            "description": self.text(sc, lang),
            "order_amount": {"amount": f"{_price(rng, product):.2f}", "currency": "CNY"},
            "product": {
                "sku": product.sku,
                "name": product.name_zh if lang == "zh" else product.name_en,
                "kind": product.kind,
            },
            "contact": {"locale": "zh-CN" if lang == "zh" else "en"},
        }
        if rng.random() < 0.5:
            record["category"] = sc.category
        if rng.random() < 0.2:
            record["channel"] = rng.choice(("web", "app"))
        return record

    # ---------------------------------------------------------------------- breaking

    def corrupt(self, source: str, record: dict[str, Any]) -> None:
        """Make one record invalid in a way a real export gets wrong."""
        rng = self.rng
        order_field = {"tmall": "tid", "jd": "orderId", "amazon": "amazon-order-id", "generic": "order_id"}
        id_field = {"tmall": "refund_id", "jd": "afsServiceId", "amazon": "a-to-z-claim-id", "generic": "external_id"}
        kinds = ["order", "time", "amount", "id"]
        kinds += {"amazon": ["currency"], "generic": ["unknown_field"]}.get(source, [])
        kind = rng.choice(kinds)
        if kind == "order":
            del record[order_field[source]]
        elif kind == "id":
            del record[id_field[source]]
        elif kind == "time":
            field = {"tmall": "created", "jd": "applyTime", "amazon": "claim-date", "generic": "raised_at"}
            record[field[source]] = rng.choice(("昨天下午3点", "11/21/2026 3:15 PM", "2026-13-45 25:61:00", ""))
        elif kind == "amount":
            if source == "generic":
                record["order_amount"] = {"amount": "-" + record["order_amount"]["amount"], "currency": "CNY"}
            else:
                field = {"tmall": "refund_fee", "jd": "payPrice", "amazon": "claim-amount"}[source]
                record[field] = "-" + str(record[field])
        elif kind == "currency":
            del record["currency"]
        else:
            record["priority"] = "urgent"


def generate(anchor: datetime = DEFAULT_ANCHOR) -> list[dict[str, Any]]:
    gen = _Gen(anchor)
    rng = gen.rng
    distinct = TOTAL - DUPLICATES
    lines: list[dict[str, Any]] = []
    for n in range(distinct):
        source = rng.choices([s for s, _ in SOURCES], weights=[w for _, w in SOURCES])[0]
        lines.append({"source": source, "record": getattr(gen, source)(n)})
    broken = set(rng.sample(range(distinct), INVALID))
    for n in sorted(broken):
        gen.corrupt(lines[n]["source"], lines[n]["record"])
    valid = [n for n in range(distinct) if n not in broken]
    copies = [(rng.randint(n + 1, distinct), n) for n in sorted(rng.sample(valid, DUPLICATES))]
    for at, n in sorted(copies, reverse=True):  # from the back, so the positions stay right
        lines.insert(at, json.loads(json.dumps(lines[n])))  # a re-sent copy, later in the file
    return lines


def render(lines: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--anchor", default=None, help="ISO time or 'now' (default: the fixed demo anchor)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    if args.anchor is None:
        anchor = DEFAULT_ANCHOR
    elif args.anchor == "now":
        anchor = datetime.now(UTC).replace(microsecond=0)
    else:
        anchor = datetime.fromisoformat(args.anchor.replace("Z", "+00:00")).astimezone(UTC)
    lines = generate(anchor)
    args.out.write_text(render(lines), encoding="utf-8")
    print(f"wrote {len(lines)} records to {args.out}")


if __name__ == "__main__":
    main()
