"""Complaint triage: category, team and severity from free text (lifecycle.md, triage sections)."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from bench.triage_accuracy import evaluate, load_examples
from chalicelib.triage import (
    CATEGORIES,
    RULES_PATH,
    TriageInput,
    TriageResult,
    build_rules,
    load_rules,
    team_for,
    triage,
)
from chalicelib.triage.rules import load_rule_data, without_model

SHARED_EXAMPLES = Path(__file__).resolve().parents[2].parent / "shared/data/triage-examples.jsonl"
DATA = Path(__file__).resolve().parents[1] / "data"
# the labelled sets the rules have been tuned on (bench/README.md, section 4: each holdout was
# measured once before its misses were read; a new unseen set belongs in bench/, not here)
TUNED_ON = {
    "shared": SHARED_EXAMPLES,
    "holdout": DATA / "triage-holdout.jsonl",
    "tuning": DATA / "triage-tuning.jsonl",
    "fresh": DATA / "triage-holdout-fresh.jsonl",
    "final": DATA / "triage-holdout-final.jsonl",
    "blind": DATA / "triage-holdout-blind.jsonl",
    "blind2": DATA / "triage-holdout-blind2.jsonl",
    "blind3": DATA / "triage-holdout-blind3.jsonl",
    "blind4": DATA / "triage-holdout-blind4.jsonl",
    "blind5": DATA / "triage-holdout-blind5.jsonl",
    "blind6": DATA / "triage-holdout-blind6.jsonl",
}
# the corpora the learned model is trained on (the rules were not tuned on their category
# misses, only on their severity misses), held at the targets together
CORPORA = sorted(DATA.glob("triage-corpus-*.jsonl"))


def run(text: str, **fields: object) -> TriageResult:
    return triage(TriageInput(text=text, **fields))  # type: ignore[arg-type]


def mentions(result: TriageResult, *fragments: str) -> bool:
    """Whether one reason contains all ``fragments``."""
    return any(all(fragment in reason for fragment in fragments) for reason in result.reasons)


# -- categories and teams ---------------------------------------------------------------------
def test_the_ten_categories_of_the_spec_with_their_teams() -> None:
    assert len(CATEGORIES) == 10
    owners = {category: team_for(category) for category in CATEGORIES}
    assert owners == {
        "product_quality": "product",
        "not_as_described": "product",
        "counterfeit": "product",
        "delivery_delay": "logistics",
        "damaged_in_transit": "logistics",
        "lost_parcel": "logistics",
        "service_attitude": "service",
        "after_sales": "service",
        "promotion_rules": "service",
        "other": "service",
    }


def test_team_for_an_unknown_category_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown complaint category"):
        team_for("weather")


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("收到的杯子碎了", "damaged_in_transit"),
        ("包装破损，里面的东西也坏了", "damaged_in_transit"),
        ("The parcel arrived damaged", "damaged_in_transit"),
        ("一直没收到，快递说丢件了", "lost_parcel"),
        ("My package was lost in transit", "lost_parcel"),
        ("这是假货", "counterfeit"),
        ("The handbag is fake", "counterfeit"),
        ("已经一周了还没发货", "delivery_delay"),
        ("The order is two weeks late", "delivery_delay"),
        ("用了三天就坏了", "product_quality"),
        ("和图片上的颜色完全不一样", "not_as_described"),
        ("客服态度很差", "service_attitude"),
        ("退货寄回去一个月了还没退款", "after_sales"),
        ("优惠券用不了", "promotion_rules"),
        ("想修改收货地址", "other"),
    ],
)
def test_classifies_from_chinese_and_english_text(text: str, category: str) -> None:
    result = run(text)
    assert (result.category, result.category_source) == (category, "classified")
    assert result.team == team_for(category)


def test_mixed_chinese_and_english() -> None:
    assert run("收到的 laptop 屏幕 cracked, 外箱也 damaged").category == "damaged_in_transit"
    assert run("the 面膜 is fake, 没有防伪码").category == "counterfeit"
    assert run("order 还没发货, 已经一个星期了").category == "delivery_delay"


def test_full_width_and_upper_case_text_is_normalised() -> None:
    assert run("ＴＨＥ ＰＡＲＣＥＬ ＡＲＲＩＶＥＤ ＤＡＭＡＧＥＤ！").category == "damaged_in_transit"


# -- negation ---------------------------------------------------------------------------------
def test_negated_damage_is_not_damage() -> None:
    result = run("杯子没有碎，但是快递晚了三天")
    assert result.category == "delivery_delay"
    assert mentions(result, "'碎'", "negated", "没有")


def test_negation_stops_at_the_end_of_the_clause() -> None:
    assert run("没有破损，就是发错了颜色").category == "not_as_described"
    assert run("鞋子不是假货，但是开胶了").category == "product_quality"


def test_english_negation_including_short_forms() -> None:
    assert run("The mug isn't broken, but delivery took 3 weeks").category == "delivery_delay"
    assert run("No damage at all, but it's a fake Rolex").category == "counterfeit"
    assert run("The box wasnt damaged; the lamp just doesn't turn on").category == "product_quality"


def test_praise_after_a_keyword_cancels_it() -> None:
    assert run("外包装没问题，里面屏幕裂了").category == "damaged_in_transit"
    assert run("质量很好，没有任何问题，就是物流慢").category == "delivery_delay"


def test_a_negation_inside_the_complaint_phrase_still_counts() -> None:
    assert run("显示已签收，但是我没收到").category == "lost_parcel"
    assert run("付款五天了还没发货").category == "delivery_delay"


def test_negated_safety_word_is_not_p1() -> None:
    result = run("没有过敏，只是颜色和图片不一样", product_kind="cosmetics")
    assert (result.category, result.severity) == ("not_as_described", "P3")
    assert mentions(result, "'过敏'", "negated")


def test_false_negations_do_not_hide_a_safety_problem() -> None:
    assert run("用了没多久就过敏了", product_kind="cosmetics").severity == "P1"
    assert run("是不是过期了？闻着有点酸", product_kind="food").severity == "P1"
    assert run("没想到吃完就拉肚子", product_kind="food").severity == "P1"


# -- unknown text, customer category ----------------------------------------------------------
def test_text_that_matches_nothing_is_other_for_the_service_team() -> None:
    result = run("啦啦啦")
    assert (result.category, result.team, result.severity) == ("other", "service", "P3")
    assert mentions(result, "no category keyword matched")


def test_a_valid_customer_category_is_kept_but_severity_still_comes_from_the_text() -> None:
    result = run("用了这个面霜脸上过敏了", category="delivery_delay", product_kind="cosmetics")
    assert (result.category, result.category_source, result.team) == ("delivery_delay", "customer", "logistics")
    assert result.severity == "P1"
    assert mentions(result, "customer-chosen category")


def test_an_unknown_customer_category_is_replaced_by_classification() -> None:
    result = run("收到的杯子碎了", category="broken_stuff")
    assert (result.category, result.category_source) == ("damaged_in_transit", "classified")
    assert mentions(result, "broken_stuff", "not known")


# -- severity ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("酸奶打开有股怪味，已经变质了", "food"),
        ("面膜过期了", "cosmetics"),
        ("The cough syrup is expired", "medicine"),
        ("充电的时候电池起火了", "electronics"),
        ("热水壶漏电，手被电了一下", "home"),
        ("The heater overheated and started smoking", "home"),
        ("I got an electric shock from the kettle", None),
        ("孩子玩这个玩具被划伤了手", "other"),
        ("口红用完嘴唇肿了", "cosmetics"),
        ("孩子的玩具电池漏液，手上起了红点", "other"),
        ("My toddler nearly choked on a small part", "other"),
        ("牛排解冻后发粘有酸味", "food"),
    ],
)
def test_personal_safety_is_p1(text: str, kind: str | None) -> None:
    result = run(text, product_kind=kind)
    assert result.severity == "P1"
    assert mentions(result, "→ P1")


def test_expiry_of_a_coupon_is_not_a_safety_risk() -> None:
    result = run("优惠券过期了，活动页面写的是月底才结束")
    assert (result.category, result.severity) == ("promotion_rules", "P3")


def test_kind_makes_a_sensitive_word_relevant() -> None:
    assert run("牛奶坏了", product_kind="food").severity == "P1"
    assert run("风扇坏了", product_kind="home").severity == "P3"


@pytest.mark.parametrize(
    ("amount", "severity"),
    [("999.99", "P3"), ("1000", "P2"), ("1000.00", "P2"), ("9999.99", "P2"), ("10000", "P1"), ("12000.00", "P1")],
)
def test_amount_thresholds(amount: str, severity: str) -> None:
    assert run("袜子有个线头", order_amount=Decimal(amount)).severity == severity


def test_amount_rule_is_explained() -> None:
    result = run("袜子有个线头", order_amount=Decimal("12000"))
    assert mentions(result, "order amount 12000.00 ≥ 10000 → P1")
    assert mentions(run("袜子有个线头", order_amount=Decimal("1000")), "order amount 1000.00 ≥ 1000 → P2")


def test_second_open_complaint_on_the_order_is_p2() -> None:
    result = run("袜子有个线头", other_open_on_order=True)
    assert result.severity == "P2"
    assert mentions(result, "second open complaint")


@pytest.mark.parametrize(
    "text",
    [
        "投诉了三次都没人管，再不解决我就找媒体曝光",
        "再不发货我就去12315投诉",
        "I will report you to consumer protection",
        "垃圾商家，骗子，气死我了",
        "This is a scam!!!",
    ],
)
def test_public_threats_and_strongly_negative_text_are_p2(text: str) -> None:
    assert run(text).severity == "P2"


def test_plain_complaint_is_p3() -> None:
    result = run("袜子有个线头", order_amount=Decimal("19.90"))
    assert result.severity == "P3"
    assert mentions(result, "no severity rule matched")


@pytest.mark.parametrize(
    ("tier", "amount", "expected"),
    [
        ("standard", "19.90", "P3"),
        ("gold", "19.90", "P2"),
        ("vip", "19.90", "P2"),
        ("vip", "4999.00", "P1"),
        ("GOLD", "4999.00", "P1"),
        ("vip", "12000.00", "P1"),
    ],
)
def test_gold_and_vip_raise_one_level_never_above_p1(tier: str, amount: str, expected: str) -> None:
    assert run("手机到手就有划痕", tier=tier, order_amount=Decimal(amount)).severity == expected


def test_tier_raise_is_explained_and_capped() -> None:
    assert mentions(
        run("手机到手就有划痕", tier="vip", order_amount=Decimal("4999")), "tier vip → severity raised P2→P1"
    )
    assert mentions(run("电池起火了", tier="vip"), "tier vip", "already P1")


# -- reasons ----------------------------------------------------------------------------------
def test_reasons_name_the_rules_that_decided() -> None:
    result = run("花瓶碎了，孩子被碎片割伤了手", product_kind="home", order_amount=Decimal("88"))
    assert result.reasons
    assert mentions(result, "keyword", "→ damaged_in_transit")
    assert mentions(result, "safety keyword", "→ P1")


def test_models_are_frozen() -> None:
    result = run("收到的杯子碎了")
    with pytest.raises(ValidationError):
        result.severity = "P1"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        TriageInput(text="x").text = "y"  # type: ignore[misc]


# -- the rule file ----------------------------------------------------------------------------
def test_rule_file_defines_every_category_and_a_valid_team() -> None:
    with RULES_PATH.open("rb") as fh:
        data = tomllib.load(fh)
    assert set(data["categories"]) == set(CATEGORIES)
    assert {spec["team"] for spec in data["categories"].values()} == {"product", "logistics", "service"}


def test_a_broken_rule_file_is_rejected() -> None:
    with RULES_PATH.open("rb") as fh:
        data = tomllib.load(fh)
    data["categories"]["other"]["team"] = "marketing"
    with pytest.raises(ValueError, match="team must be one of"):
        build_rules(data)


# -- accuracy on labelled complaints ----------------------------------------------------------
@pytest.mark.parametrize("path", TUNED_ON.values(), ids=TUNED_ON.keys())
def test_a_rule_edit_keeps_the_targets_on_the_labelled_complaints(path: Path) -> None:
    # issue 15's targets (category 97 %, team 98 %, severity 97 %, P1 recall 100 %) on every set
    # the rules know: a rule edit that breaks known complaints fails here, with the misses
    if not path.exists():
        pytest.skip(f"{path} not available")
    scores = evaluate(load_examples(path))
    assert scores.category >= 0.97, scores.misses
    assert scores.team >= 0.98, scores.misses
    assert scores.severity >= 0.97, scores.misses
    assert scores.p1_recall == 1.0, scores.misses


def test_the_training_corpora_together_keep_the_targets() -> None:
    assert len(CORPORA) >= 7
    scores = evaluate([example for path in CORPORA for example in load_examples(path)])
    assert scores.category >= 0.97, scores.misses
    assert scores.team >= 0.98, scores.misses
    assert scores.severity >= 0.97, scores.misses
    assert scores.p1_recall == 1.0, scores.misses


# -- round 11: severity families read from the corpora's first-run misses (bench/README.md, section 4), new wordings
@pytest.mark.parametrize(
    ("text", "kind", "severity"),
    [
        # a strongly negative word is not cancelled by an earlier negation
        ("路由器三天两头断网，重启了也没用，真的气死了", "electronics", "P2"),
        ("从来没遇到过这么垃圾的客服", None, "P2"),
        # a coupon that expired is no expired product, whatever the product kind
        ("攒的积分兑换的券没用就过期了", None, "P3"),
        # a medical lifeline that has not come puts someone at risk
        ("孩子的哮喘药下单五天了还没发货", "medicine", "P1"),
        # a stranger at the door with the customer's address
        ("有人拿着我的收货地址找到我家楼下来了，很害怕", None, "P1"),
        # a gas smell; a bulging tin
        ("屋里一股燃气味，刚装的灶", "home", "P1"),
        ("bought a can of beans and the tin is bulging", "food", "P1"),
        # a lunchbox clip is no safety gear; a bland food is no safety risk
        ("饭盒卡扣断了", "home", "P3"),
        ("火锅底料一点都不辣", "food", "P3"),
        # a threat to post on Weibo, written in English
        ("The agent was rude. Posting the screenshots on Weibo.", None, "P2"),
        # "won't stop bleeding" is bleeding that goes on, not a negated one (round 12); "no bleeding" is
        ("the razor slipped and my chin won't stop bleeding", "electronics", "P1"),
        ("the blade is dull but no bleeding, just a bad shave", "electronics", "P3"),
    ],
)
def test_round_11_severity_families(text: str, kind: str | None, severity: str) -> None:
    assert run(text, product_kind=kind).severity == severity


# -- round 13: a product sold as free of something that is not is the listing's false claim,
# whatever harm it did (the harm keeps it P1); without the claim it stays a quality complaint
@pytest.mark.parametrize(
    ("text", "kind", "category", "severity"),
    [
        ("说是不含坚果的曲奇，我儿子吃了两块嘴就肿了", "food", "not_as_described", "P1"),
        ("Sold as gluten-free pasta but I'm coeliac and got sick all night", "food", "not_as_described", "P1"),
        ("号称无香精的面霜，涂完脸刺痛发红", "cosmetics", "not_as_described", "P1"),
        ("无糖可乐喝起来有股怪味", "food", "product_quality", "P1"),
    ],
)
def test_round_13_a_false_free_of_claim_is_not_as_described(text: str, kind: str, category: str, severity: str) -> None:
    result = run(text, product_kind=kind)
    assert (result.category, result.severity) == (category, severity), result.reasons
    # the rule file decides it, not the learned model
    assert mentions(result, "safety words count for not_as_described") == (category == "not_as_described")


def test_round_13_a_listing_that_claims_nothing_leaves_a_defect_with_quality() -> None:
    # the rule file's reading (round 15's table overrules it at 88 %: bench/README.md, section 4)
    rules = without_model(load_rules())
    result = triage(TriageInput(text="页面写的不含税价格，杯子用了一周就裂了", product_kind="home"), rules)
    assert (result.category, result.severity) == ("product_quality", "P3"), result.reasons
    assert not mentions(result, "safety words count for not_as_described")


# -- round 13: families from the code-switching corpus's first run (bench/README.md, section 4), new wordings
def test_round_13_code_switching_families() -> None:
    assert run("充电头插上一会儿插头就融掉了", product_kind="electronics").severity == "P1"  # a melted plug
    assert not mentions(run("my G-Shock strap snapped after a week", product_kind="electronics"), "safety keyword")
    assert run("被你们客服气到发抖，从来没这么憋屈过").severity == "P2"  # shaking with anger
    assert not mentions(
        run("打气筒充气到一半就漏气", product_kind="home"), "strongly negative"
    )  # 充气到一半 is no anger
    stalked = run("快递小哥老问我是不是一个人住，我现在不敢一个人在家")
    assert stalked.severity == "P1" and mentions(stalked, "frightens the customer")
    pestered = run("the seller keeps harassing me to change my review")
    assert not mentions(pestered, "frightens the customer")  # pestering for a review is rude, not a danger
    assert run("网页说能装下13寸电脑，实际11寸的都放不进").category == "not_as_described"


# -- round 13: safety look-alikes read from the training corpora's false P1s, in new wordings
@pytest.mark.parametrize(
    ("text", "kind", "risk"),
    [
        # fruit crushed or soaked in transit is damage; fruit gone rotten is spoilage
        ("一箱橙子路上压烂了好几个，汁流得到处都是", "food", False),
        ("芒果到手全烂了，一股酸臭味", "food", True),
        # a pump or a glass jar is packaging; glass shards in the food are not
        ("精华的按压泵坏了，按不出来", "cosmetics", False),
        ("酱菜的玻璃瓶盖子拧不开", "food", False),
        ("瓶子碎了，酱里面全是碎玻璃", "food", True),
        # a red packet or a review window that expired is no expired product; expired pills are
        ("the red packet expired before I could use it", None, False),
        ("my review window expired after 3 days", None, False),
        ("the pills I got had expired last spring", None, True),
        # a hob's burners, a bulb that burnt out, money "swallowed" by a shop
        ("Ordered a 5-burner gas hob, the knob of one burner is loose", "home", False),
        ("the bulb burnt out after a week", "home", False),
        ("退款拖了一个月，你们是打算吞了我的钱吗", None, False),
        ("孩子把纽扣吞了", None, True),
        # from the everyday-safety corpus: 'fire' as praise or a name, money or fat that burns, a
        # coupon that expired in a pharmacy's shop, allergy tablets that are late
        ("This sale is fire but the coupon expired before I could pay", None, False),
        ("药店旗舰店领的券过期了用不了", "medicine", False),
        ("my allergy pills still haven't shipped", "medicine", False),
        ("the fat burner shake tastes like chalk", "food", False),
        ("the candle says clean burn but there's no scent at all", "home", False),
        ("the Fire Department print on my hoodie cracked in the wash", "apparel", False),
        ("the coupon worked, but the face cream itself had expired", "cosmetics", True),
        ("the charger caught fire on my desk", "electronics", True),
        # expiry told as a date gone by
        ("the vitamins were only good until June and it's October", "medicine", True),
        ("my cough syrup order is a week late", "medicine", False),
    ],
)
def test_round_13_safety_look_alikes(text: str, kind: str | None, risk: bool) -> None:
    # the rule file's own reading: a look-alike fires no safety keyword (the learned model's safety
    # signal may still ask for a review), a real risk is P1 by a safety keyword
    result = run(text, product_kind=kind)
    if risk:
        assert result.severity == "P1" and mentions(result, "safety keyword"), result.reasons
    else:
        assert not mentions(result, "safety keyword"), result.reasons


# -- round 14: families from the severity-edges corpus's first run (bench/README.md, section 4), new wordings
@pytest.mark.parametrize(
    ("text", "severity"),
    [
        # a threat the customer says they do not mean is no threat ...
        ("我也不打算去12315，就想问问到底退不退", "P3"),
        ("说实话不想闹到上媒体那一步，麻烦尽快补发", "P3"),
        ("I'm not looking to drag this onto social media, just fix my order", "P3"),
        ("we do not want to involve a lawyer, please just refund the deposit", "P3"),
        # ... but a break word ends the denial: what follows it is meant
        ("不想多说了，明天就去12315", "P2"),
        ("I don't want to do this but I will report you to the BBB", "P2"),
        ("再不处理我就去消协", "P2"),
    ],
)
def test_round_14_a_threat_not_meant(text: str, severity: str) -> None:
    result = run(text, order_amount=Decimal("120.00"))
    assert result.severity == severity, result.reasons
    if severity == "P3":
        assert mentions(result, "public-threat keyword", "ignored: not meant"), result.reasons


@pytest.mark.parametrize(
    ("text", "kind", "severity"),
    [
        # saying nobody was hurt, that it does not leak current, that the shelf life is long
        ("The bookshelf toppled over last night. Luckily no one was hurt, but it's a cheap design", "home", "P3"),
        ("柜门掉下来了，幸好没人受伤，做工太差", "home", "P3"),
        ("查过了不漏电，就是热水器一直不出热水", "home", "P3"),
        ("奶粉保质期还很长，就是罐子上的勺子找不到", "food", "P3"),
        # a real injury in the same text is still P1
        ("The shelf fell and hurt my daughter's foot", "home", "P1"),
        # good-for-nothing, swearing: strongly negative
        ("仓库是吃干饭的吗，一个礼拜了还没发", "other", "P2"),
        ("what a shitty way to treat a customer", "other", "P2"),
    ],
)
def test_round_14_severity_edges(text: str, kind: str, severity: str) -> None:
    assert run(text, product_kind=kind, order_amount=Decimal("300.00")).severity == severity


def test_round_14_the_word_next_to_an_expiry_decides() -> None:
    # a look-alike right by the safety word wins over a sensitive noun further off in the sentence ...
    card = run("面膜店送的会员卡过期了", product_kind="other")
    assert not mentions(card, "safety keyword"), card.reasons
    # ... a sensitive noun right by it is the risk, a look-alike further off notwithstanding
    drops = run("用会员卡买的眼药水过期了", product_kind="other")
    assert drops.severity == "P1" and mentions(drops, "safety keyword '过期'"), drops.reasons


# -- round 15: families from the crossteam and after-sales-vs-delivery corpora's first runs
# (bench/README.md, section 4), in new wordings
@pytest.mark.parametrize(
    ("text", "kind", "category"),
    [
        # a first guess the customer takes back is no evidence ...
        ("我还以为是快递摔的，结果外箱好好的，是吹风机自己不出热风", "home", "product_quality"),
        (
            "At first I thought the courier had dropped it, but the box is pristine; the left earbud just crackles",
            "electronics",
            "product_quality",
        ),
        ("原以为是质量问题，后来发现是路上压扁了，盒子都变形了", "home", "damaged_in_transit"),
        # ... and a keyword before the guess word still counts
        ("鞋子开胶了，我以为是我穿得不对", "apparel", "product_quality"),
    ],
)
def test_round_15_a_first_guess_taken_back(text: str, kind: str, category: str) -> None:
    # the rule file's own reading, and the shipped one (the model reads the guess blanked out too)
    complaint = TriageInput(text=text, product_kind=kind, order_amount=Decimal("200.00"))
    for rules in (without_model(load_rules()), load_rules()):
        result = triage(complaint, rules)
        assert result.category == category, result.reasons


def test_round_15_a_safety_word_in_a_first_guess_still_counts() -> None:
    result = run("我以为只是普通的红疹，擦了两天脸越来越肿", product_kind="cosmetics")
    assert result.severity == "P1" and mentions(result, "safety keyword"), result.reasons


@pytest.mark.parametrize(
    ("text", "kind", "category", "severity"),
    [
        # a bank named is no threat; taking it to the bank is one
        ("Charged twice and both show in my bank app, please reverse one", "other", "other", "P3"),
        ("The refund is two weeks late, next step is contacting my bank", "other", "after_sales", "P2"),
        # a box pierced in transit is damage, not a needle in the product
        ("纸箱被扎了个洞，里面的洗衣液漏了一地", "home", "damaged_in_transit", "P3"),
        # a return pickup that never comes is after-sales
        ("预约取件预约了三回，快递员一次都没来", "apparel", "after_sales", "P3"),
        # a parcel 'on the way' for days is late, not damaged
        ("一直在路上，都九天了，还没到", "other", "delivery_delay", "P3"),
    ],
)
def test_round_15_boundaries(text: str, kind: str, category: str, severity: str) -> None:
    result = run(text, product_kind=kind, order_amount=Decimal("150.00"))
    assert (result.category, result.severity) == (category, severity), result.reasons


@pytest.mark.parametrize(
    ("text", "kind", "category"),
    [
        # phone-typed complaints from the terse corpus's first run, in new wordings
        ("looks nothing like the pic", "apparel", "not_as_described"),
        ("假香水 一点味没有", "cosmetics", "counterfeit"),
        ("tk还没到账", "other", "after_sales"),
        ("少了一个快递 另一个收到了", "other", "lost_parcel"),
        ("paid already but the order still says unpaid", "other", "other"),
        ("洗发水漏了一箱", "cosmetics", "damaged_in_transit"),
        ("speaker crackles at high volume", "electronics", "product_quality"),
        ("screen cracked when it arrived", "electronics", "damaged_in_transit"),
    ],
)
def test_round_15_terse_complaints(text: str, kind: str, category: str) -> None:
    for rules in (without_model(load_rules()), load_rules()):
        result = triage(TriageInput(text=text, product_kind=kind), rules)
        assert result.category == category, result.reasons


def test_round_15_a_bubbling_screen_protector_is_no_swollen_battery() -> None:
    film = run("手机膜鼓包了 贴不平", product_kind="electronics")
    assert film.severity == "P3" and not mentions(film, "safety keyword"), film.reasons
    battery = run("手机电池鼓包了 后盖都顶起来了", product_kind="electronics")
    assert battery.severity == "P1", battery.reasons


@pytest.mark.parametrize(
    ("text", "kind", "severity"),
    [
        # safety in everyday words, from the safety-words corpus's first run, in new wordings ...
        ("the toaster gave me a jolt when I pulled the plug", "home", "P1"),
        ("暖手宝充了一会儿就烫得拿不住", "electronics", "P1"),
        ("the power bank gets super hot on my desk", "electronics", "P1"),
        # ... and a date still ahead is no expiry
        ("酸奶保质期到下个月，就是少发了一盒", "food", "P3"),
        ("sunscreen expires next summer, the pump just doesn't work", "cosmetics", "P3"),
    ],
)
def test_round_15_safety_in_everyday_words(text: str, kind: str, severity: str) -> None:
    result = run(text, product_kind=kind, order_amount=Decimal("99.00"))
    assert result.severity == severity, result.reasons


def test_round_15_a_comparison_with_the_picture_is_not_as_described() -> None:
    for rules in (without_model(load_rules()), load_rules()):
        result = triage(TriageInput(text="实物比图片小了一圈", product_kind="home"), rules)
        assert result.category == "not_as_described", result.reasons


@pytest.mark.parametrize(
    ("text", "kind", "severity"),
    [
        # P1 families from the safety complaints missed with each corpus left out in turn, new wordings
        ("吃的降糖药怀疑是假药，包装和以前的不一样", "medicine", "P1"),
        ("电动车轮胎用了一个月侧面鼓起来了", "other", "P1"),
        ("the pressure cooker lid hisses and spits steam", "home", "P1"),
        ("头盔是高仿的，带子一拉就断", "other", "P1"),
        ("灭鼠药的快递放在门口，万一孩子拿去吃了怎么办", "other", "P1"),
        ("床垫说是阻燃的，打火机一点就烧起来了", "home", "P1"),
        ("my grandma's wheelchair still hasn't arrived, she can't get to the bathroom", "other", "P1"),
        ("the mirror's hook is loose, I'm scared it will fall on my daughter", "home", "P1"),
        ("精华标着孕妇可用，皮肤科医生说里面的成分孕期禁用", "cosmetics", "P1"),
        # ... and their look-alikes
        ("包裹的胶带被割开过，里面少了一个数据线", "electronics", "P3"),
        ("the wheelchair ramp we ordered is missing a bracket", "other", "P3"),
    ],
)
def test_round_15_safety_missed_with_its_corpus_left_out(text: str, kind: str, severity: str) -> None:
    result = run(text, product_kind=kind, order_amount=Decimal("199.00"))
    assert result.severity == severity, result.reasons


@pytest.mark.parametrize(
    ("text", "kind", "category", "severity"),
    [
        # harm from something the journey broke is transit damage, still P1 ...
        ("鱼缸运输途中碎了，拆箱的时候玻璃把我手划了个口子", "home", "damaged_in_transit", "P1"),
        ("The lamp's glass shade broke in transit and a shard cut my wife's palm", "home", "damaged_in_transit", "P1"),
        # ... unless the customer rules the journey out, or it broke in use
        ("不是运输的问题，箱子好好的，台灯一插电就冒烟", "home", "product_quality", "P1"),
        ("用了两天玻璃壶自己裂了，烫到了手", "home", "product_quality", "P1"),
        # one variant ordered, another sent; short weight
        ("要的黑色发成了米白", "apparel", "not_as_described", "P3"),
        ("说是五斤装，称了一下才四斤", "food", "not_as_described", "P3"),
    ],
)
def test_round_15_transit_harm_and_wrong_variants(text: str, kind: str, category: str, severity: str) -> None:
    rules = without_model(load_rules())
    result = triage(TriageInput(text=text, product_kind=kind, order_amount=Decimal("120.00")), rules)
    assert (result.category, result.severity) == (category, severity), result.reasons


@pytest.mark.parametrize(
    ("text", "kind", "category"),
    [
        # the marks of a copy
        ("耳机盒子上的logo印成了Sonny，说是官方店", "electronics", "counterfeit"),
        ("the perfume's font is different from the one I bought at the mall", "cosmetics", "counterfeit"),
        # account and platform mechanics are the service desk's
        ("钱包余额提现五天了还没到", "other", "other"),
        ("送朋友的礼物，包裹里能不能别放发货单", "other", "other"),
        ("ever since this order I get spam calls every day", "other", "other"),
    ],
)
def test_round_15_copies_and_platform_mechanics(text: str, kind: str, category: str) -> None:
    result = triage(TriageInput(text=text, product_kind=kind), without_model(load_rules()))
    assert result.category == category, result.reasons


def test_round_15_return_talk_about_a_parcel_never_received_is_a_lost_parcel() -> None:
    result = run("商家一直让我走退货流程，可我根本没收到货，物流显示签收但不是我签的")
    assert result.category == "lost_parcel", result.reasons


def test_a_risk_that_is_not_the_products_fault_stays_with_the_team_that_caused_it() -> None:
    # product_fault = false: a medicine that never came is a logistics problem, a stranger with the
    # customer's address not a quality one — both P1 all the same
    late = run("My son's inhaler order never arrived and he is on his last one", product_kind="medicine")
    assert (late.category, late.team, late.severity) == ("lost_parcel", "logistics", "P1")
    stranger = run("有人拿着我的收货地址找到我家楼下来了，很害怕")
    assert (stranger.team, stranger.severity) == ("service", "P1")


# -- rounds 9 and 10: families read from blind5's and blind6's misses (bench/README.md, section 4), in new wordings
@pytest.mark.parametrize(
    ("text", "category"),
    [
        # saying one does NOT want one's money back is not an after-sales request
        ("I don't want my money back, the order is just 12 days late", "delivery_delay"),
        # a pre-sale paid by deposit, past its promised shipping date, is a late delivery …
        ("交了定金的预售商品，说好15号发货，到现在还没发", "delivery_delay"),
        # … but the deposit's discount not applied stays a promotion problem
        ("预售定金膨胀的优惠没抵扣，尾款还是按原价付的", "promotion_rules"),
        ("盘子碎成两半，泡沫都没放一块", "damaged_in_transit"),
        ("the tracking says my parcel has vanished somewhere between two depots", "lost_parcel"),
        ("上门安装的师傅约好了周六，结果没来也不说一声", "after_sales"),
        ("拼单拼成功了，扣的却是单买价", "promotion_rules"),
        ("乳液的泵头按不出来，瓶子还是满的", "product_quality"),
        # round 10, from blind6's misses
        ("说好的周五送货上门，周五没送，又改到下周二", "delivery_delay"),
        ("two of the glasses came in shards, the box was barely taped", "damaged_in_transit"),
        # a parcel described as broken has arrived: damage takes precedence over "lost" words
        ("the courier left my vase in shards on the doorstep", "damaged_in_transit"),
        ("包裹被快递员弄丢了，客服说要等调查结果", "lost_parcel"),
        ("快递盒明显被拆过又重新封了，里面的耳机少了一只", "damaged_in_transit"),
        (
            "the parcel went back to the seller and never came back to them either, nobody knows where it is",
            "lost_parcel",
        ),
        ("快递员嫌我住六楼，骂了一句就把包裹扔在楼下", "service_attitude"),
        ("买了两年延保，现在说电机故障不在保障范围内", "after_sales"),
        ("瓶身上印着“零添加”，配料表里一堆添加剂", "not_as_described"),
        ("进口奶粉罐底没有生产批号，海关备案的图片也对不上", "counterfeit"),
        # new batteries put in by the customer are not an exchange
        ("遥控器按了没反应，换了新电池还是不行", "product_quality"),
    ],
)
def test_families_read_from_holdout_misses(text: str, category: str) -> None:
    assert run(text).category == category


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("宝宝外套上的纽扣一拽就掉，差点被他塞到嘴里", "apparel"),
        ("充电宝用了一周鼓得像个球，外壳都撑开了", "electronics"),
        ("取暖器的插头插了一晚上，拔下来发现铜片变色了", "home"),
        ("the electric blanket's cord went soft and gooey where it touched the mattress", "home"),
        ("unpacking the vase I got a shard in my palm and needed stitches", "home"),
        ("面膜敷上没五分钟脸上就起了小泡", "cosmetics"),
    ],
)
def test_round_nine_safety_without_a_safety_word(text: str, kind: str) -> None:
    assert run(text, product_kind=kind).severity == "P1"


def test_a_promised_call_back_is_not_an_electric_shock() -> None:
    result = run("客服说好的回电到今天也没打来")
    assert (result.category, result.severity) == ("service_attitude", "P3")


def test_anger_with_an_ignored_safety_word_inside_still_counts_as_strongly_negative() -> None:
    # "气死" holds the safety word "死"; it is strongly negative wording, not a safety risk
    result = run("客服说买不起就别买，真是气死我了")
    assert result.severity == "P2"
    assert mentions(result, "strongly negative", "气死")


def test_no_keyword_is_also_an_ignore_phrase() -> None:
    # an ignore phrase blanks the keyword it equals (equal length, the ignore wins): such a
    # keyword could never count. Category keywords meet [ignore]; severity keywords the safety ignore.
    data = load_rule_data()
    categories = {
        phrase
        for spec in data["categories"].values()
        for strength in ("strong", "normal", "weak")
        for phrase in spec.get(strength, [])
    }
    severity = {
        phrase for name in ("public_threat", "strongly_negative") for phrase in data["severity"][name]["keywords"]
    }
    severity |= set(data["severity"]["safety"]["always"])
    assert categories & set(data["ignore"]["phrases"]) == set()
    assert severity & set(data["severity"]["safety"]["ignore"]) == set()


# -- round 10: read from blind6's misses, in new wordings (its category families are above) -
def test_a_teat_piece_in_a_babys_milk_is_p1() -> None:
    assert run("奶嘴用了两次就裂了，有一小块掉进奶里被宝宝喝进去了", product_kind="home").severity == "P1"


@pytest.mark.parametrize(
    ("text", "kind", "severity"),
    [
        ("羽绒服掉毛，深色毛衣上全是白毛", "apparel", "P3"),  # lint, not mould
        ("面包才买两天就长了白毛", "food", "P1"),  # mould on food
        ("the 20% off code says expired although the email says it is valid all month", None, "P3"),
    ],
)
def test_mould_words_and_expiry_read_in_their_context(text: str, kind: str | None, severity: str) -> None:
    assert run(text, product_kind=kind).severity == severity


# -- round 16: the two halves of a together rule in neighbouring parts of a sentence (bench/README.md,
# section 4), in new wordings
@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("新换的前胎骑了一个月，侧面就鼓起一个大包", "other"),
        ("暖风机开了两个小时，插头那里都发黑了", "home"),
        ("婴儿床买来三天，护栏就松了，宝宝一靠差点翻出来", "home"),
        ("My son was riding the scooter, the handlebar snapped off", "other"),
    ],
)
def test_round_16_a_together_rule_reaches_the_neighbouring_part_of_a_sentence(text: str, kind: str) -> None:
    result = triage(TriageInput(text=text, product_kind=kind), without_model(load_rules()))
    assert result.severity == "P1" and mentions(result, "in neighbouring sentences"), result.reasons


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        # a denial covers the harm word ...
        ("Nobody got hurt, but the chair's arm split in two", "home"),
        # ... 倒是 is "though", and the kettle starting to boil is no fire
        ("我每天坐着用这台电脑，键盘倒是没问题，就是屏幕有坏点", "electronics"),
        ("电水壶的底座接触不良，要按好几次才开始烧", "home"),
    ],
)
def test_round_16_neighbouring_parts_of_a_sentence_are_no_safety_on_their_own(text: str, kind: str) -> None:
    result = triage(TriageInput(text=text, product_kind=kind, order_amount=Decimal("199.00")), without_model(load_rules()))
    assert result.severity == "P3" and not mentions(result, "in neighbouring sentences"), result.reasons


def test_round_16_two_parts_apart_is_too_far_for_a_together_rule() -> None:
    # the tyre in the first part, the bulge in the third: the rule does not reach that far
    text = "轮胎是上个月装的，那天下着雨，今天侧面鼓起一个包"
    rules = without_model(load_rules())
    assert not mentions(triage(TriageInput(text=text, product_kind="other"), rules), "in neighbouring sentences")


@pytest.mark.parametrize(
    ("text", "kind", "severity"),
    [
        # safety from the safety-varied corpus's first run, in new wordings: a reading someone doses by ...
        ("额温枪给孩子量了好几次都是正常，去医院测已经烧到三十九度半", "electronics", "P1"),
        ("the glucose meter reads 40 points low and my husband sets his insulin by it", "electronics", "P1"),
        # ... a pedal that jams, something heavy that came down where a person was ...
        ("新买的脚垫滑到前面，刹车踏板踩不下去", "other", "P1"),
        ("浴室置物架半夜塌下来，就在旁边睡觉的孩子", "home", "P1"),
        ("The wall shelf came down and missed my daughter by inches", "home", "P1"),
        # ... splashed into an eye, a finger sliced
        ("打开清洁剂的时候溅进眼睛里了", "home", "P1"),
        ("the tin's rim sliced my finger when I opened it", "food", "P1"),
        # look-alikes: a reading that is merely off; a safety word right after 不; near its date, not past
        ("血压计两次测的差了五个点，数字也看不太清", "electronics", "P3"),
        ("充电宝容量虚标，不鼓包也不发烫，就是充不满", "electronics", "P3"),
        ("奶粉离过期还有两个月，就是罐子有点瘪", "food", "P3"),
        ("电饭煲老是糊底，burns the rice every time", "home", "P3"),
    ],
)
def test_round_16_safety_families_of_the_safety_varied_corpus(text: str, kind: str, severity: str) -> None:
    result = triage(TriageInput(text=text, product_kind=kind, order_amount=Decimal("199.00")), without_model(load_rules()))
    assert result.severity == severity, result.reasons


def test_round_16_a_category_keyword_right_after_bu_still_counts() -> None:
    # "不发热" denies a safety risk, and it is the heater's defect all the same
    result = triage(TriageInput(text="取暖器插上电根本不发热", product_kind="home"), without_model(load_rules()))
    assert (result.category, result.severity) == ("product_quality", "P3"), result.reasons


@pytest.mark.parametrize(
    ("text", "kind", "category"),
    [
        # a part the customer concedes was fine is no evidence (crossteam2's first run, new wordings)
        ("物流倒是挺快，就是这个台灯开关按两下就失灵", "home", "product_quality"),
        ("Shipping took a week no big deal, but the jeans I got are a completely different colour from the photos", "apparel", "not_as_described"),
    ],
)
def test_round_16_a_part_conceded_as_fine_is_no_evidence(text: str, kind: str, category: str) -> None:
    result = triage(TriageInput(text=text, product_kind=kind), without_model(load_rules()))
    assert result.category == category, result.reasons


@pytest.mark.parametrize(
    ("text", "kind", "category"),
    [
        # drowsy past waking is a safety risk; a label's promise for children broken is not as described
        ("宝宝吃了这个退烧药以后一直昏睡，怎么叫都叫不醒", "medicine", "product_quality"),
        ("标着儿童专用的驱蚊贴，女儿贴了一晚上胳膊上起了一片片红", "other", "not_as_described"),
    ],
)
def test_round_16_drowsiness_and_a_childrens_label_broken(text: str, kind: str, category: str) -> None:
    result = triage(TriageInput(text=text, product_kind=kind), without_model(load_rules()))
    assert (result.category, result.severity) == (category, "P1"), result.reasons


@pytest.mark.parametrize(
    ("text", "kind", "severity"),
    [
        # P1 missed with their corpus left out of training (round 16), in new wordings ...
        ("快递把我家的奶粉寄丢了，家里只剩一顿的量了", "food", "P1"),
        ("the glucose test strips are fakes and my dad sets his insulin dose by them", "medicine", "P1"),
        # ... and formula that is merely late is a delivery complaint
        ("奶粉下单五天了还没发货", "food", "P3"),
    ],
)
def test_round_16_safety_missed_with_its_corpus_left_out(text: str, kind: str, severity: str) -> None:
    result = triage(TriageInput(text=text, product_kind=kind, order_amount=Decimal("298.00")), without_model(load_rules()))
    assert result.severity == severity, result.reasons


@pytest.mark.parametrize(
    ("text", "kind", "category"),
    [
        # tracking that stops existing, a carrier that confirms it gone, 找不着 (left-out misses, new wordings)
        ("快递到了中转站以后物流信息没了，都十天了", "other", "lost_parcel"),
        ("the courier confirmed it's missing after two weeks of no updates", "other", "lost_parcel"),
        ("放在门卫那里的包裹找不着了", "other", "lost_parcel"),
        # 买 … 送达 is a delivery, not "buy one get one"
        ("给妈妈买的生日礼物十天了还没送达", "other", "delivery_delay"),
        ("买一送一的活动，送的那件没发", "apparel", "promotion_rules"),
    ],
)
def test_round_16_lost_tracking_and_buy_one_get_one(text: str, kind: str, category: str) -> None:
    result = triage(TriageInput(text=text, product_kind=kind), without_model(load_rules()))
    assert result.category == category, result.reasons


@pytest.mark.parametrize(
    ("text", "kind", "category", "severity"),
    [
        # privacy, a hijacked account, marketing messages that will not stop (round 17's corpora, new wordings)
        pytest.param("有人用我的账号登录还改了收货地址，我的号被盗了", "other", "other", "P3", id="hijacked-account"),
        pytest.param("Your app shows me another customer's name and phone on my order page, that's a privacy breach", "other", "other", "P3", id="privacy"),
        pytest.param("营销短信退订了好几次照样天天发", "other", "other", "P3", id="marketing-texts"),
        # a fake told by its codes: an IMEI or serial that does not match, a trace code no one knows, a brand that never authorised the shop
        pytest.param("The IMEI on the box doesn't match the phone's and the serial number is different too", "electronics", "counterfeit", "P3", id="imei"),
        pytest.param("蜂蜜罐上的溯源码扫了查不到", "food", "counterfeit", "P3", id="trace-code"),
        pytest.param("品牌方说没有给这个店铺授权，东西是哪来的", "cosmetics", "counterfeit", "P3", id="never-authorised"),
        pytest.param("宝贝显示被他人代签，我没授权任何人代签", "other", "lost_parcel", "P3", id="signed-by-someone-else"),
        # a space between Chinese characters ends a clause: the negation of one part does not reach the next
        pytest.param("猫粮什么时候到 家里快没有了 都等了一个礼拜了", "other", "delivery_delay", "P3", id="space-is-a-comma"),
        # glass in a box of broken glasses is damage, not a risk; in food it is; a tingle; glass that bursts by itself
        pytest.param("快递到了杯子全碎了 箱子里都是碎玻璃", "home", "damaged_in_transit", "P3", id="glass-in-the-box"),
        pytest.param("吃的果酱里有碎玻璃", "food", "product_quality", "P1", id="glass-in-food"),
        pytest.param("电热毯插上以后摸着电了我一下", "home", "product_quality", "P1", id="a-tingle"),
        pytest.param("锅盖放在灶上突然炸裂了", "home", "product_quality", "P1", id="glass-burst"),
        # 才发现 is "only then noticed", not 才发(货); a parcel soaked through
        pytest.param("收到以后才发现少了一个配件", "electronics", "not_as_described", "P3", id="only-then-noticed"),
        pytest.param("box arrived sopping wet and the books inside are ruined", "other", "damaged_in_transit", "P3", id="soaked"),
    ],
)
def test_round_17_families_of_the_boundaries_and_everyday_corpora(text: str, kind: str, category: str, severity: str) -> None:
    result = triage(TriageInput(text=text, product_kind=kind, order_amount=Decimal("199.00")), without_model(load_rules()))
    assert (result.category, result.severity) == (category, severity), result.reasons
