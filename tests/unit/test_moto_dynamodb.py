"""The DynamoDB patches of the local engine (``local/moto/dynamodb.py``), through boto3 on moto.

The indexed Query must answer exactly what moto as shipped answers: the same random history of
puts, updates, deletes, batch writes and transactions (some cancelled) is played on moto as
shipped and on the patched moto, with the same battery of queries in between, and every answer
is compared.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from typing import Any
from unittest import mock

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local.moto import dynamodb

REGION = "us-east-1"
TABLE = "t"
PKS = [f"P{i}" for i in range(5)]
SKS = [f"S{i:02d}" for i in range(16)]
GPKS = ["G0", "G1", "G2"]
TEAMS = ["product", "logistics"]


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)


def create_table(ddb: Any) -> None:
    attributes = {"pk": "S", "sk": "S", "gpk": "S", "gsk": "S", "team": "S", "num": "N", "lsk": "N"}
    ddb.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": t} for a, t in attributes.items()],
        LocalSecondaryIndexes=[{
            "IndexName": "by_lsk",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "lsk", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"},
        }],
        GlobalSecondaryIndexes=[
            {"IndexName": "by_g", "KeySchema": [{"AttributeName": "gpk", "KeyType": "HASH"},
                                                {"AttributeName": "gsk", "KeyType": "RANGE"}],
             "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["payload"]}},
            {"IndexName": "by_team", "KeySchema": [{"AttributeName": "team", "KeyType": "HASH"}],
             "Projection": {"ProjectionType": "KEYS_ONLY"}},
            {"IndexName": "by_num", "KeySchema": [{"AttributeName": "num", "KeyType": "HASH"},
                                                  {"AttributeName": "sk", "KeyType": "RANGE"}],
             "Projection": {"ProjectionType": "ALL"}},
        ],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )


def random_item(rng: random.Random, pk: str | None = None, sk: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"pk": {"S": pk or rng.choice(PKS)}, "sk": {"S": sk or rng.choice(SKS)},
                            "payload": {"S": "x" * rng.randint(0, 40)}}
    if rng.random() < 0.7:  # sparse: some items are in no by_g partition
        item["gpk"] = {"S": rng.choice(GPKS)}
        if rng.random() < 0.8:
            item["gsk"] = {"S": f"{rng.randint(0, 9):02d}"}
    if rng.random() < 0.6:
        item["team"] = {"S": rng.choice(TEAMS)}
    if rng.random() < 0.5:
        item["num"] = {"N": str(rng.choice([1, 2, 2.0, 10]))}  # 2 and 2.0 are the same number
    if rng.random() < 0.5:
        item["lsk"] = {"N": str(rng.randint(0, 5))}
    return item


def key(rng: random.Random) -> dict[str, Any]:
    return {"pk": {"S": rng.choice(PKS)}, "sk": {"S": rng.choice(SKS)}}


def one_write(ddb: Any, rng: random.Random) -> None:
    kind = rng.choice(["put", "put", "put", "update", "update", "delete", "batch", "transact", "conditional"])
    try:
        if kind == "put":
            ddb.put_item(TableName=TABLE, Item=random_item(rng))
        elif kind == "update":
            update = rng.choice([
                ("SET gpk = :g, gsk = :s", {":g": {"S": rng.choice(GPKS)}, ":s": {"S": "05"}}),
                ("REMOVE gpk", {}), ("REMOVE team", {}), ("SET team = :t", {":t": {"S": rng.choice(TEAMS)}}),
                ("SET num = :n", {":n": {"N": str(rng.choice([1, 2, 10]))}}), ("SET payload = :p", {":p": {"S": "upd"}}),
            ])
            kwargs: dict[str, Any] = {"UpdateExpression": update[0]}
            if update[1]:
                kwargs["ExpressionAttributeValues"] = update[1]
            ddb.update_item(TableName=TABLE, Key=key(rng), **kwargs)
        elif kind == "delete":
            ddb.delete_item(TableName=TABLE, Key=key(rng))
        elif kind == "batch":
            requests, seen = [], set()
            for _ in range(rng.randint(1, 6)):
                item = random_item(rng)
                identity = (item["pk"]["S"], item["sk"]["S"])
                if identity in seen:
                    continue
                seen.add(identity)
                requests.append({"PutRequest": {"Item": item}} if rng.random() < 0.7
                                else {"DeleteRequest": {"Key": {"pk": item["pk"], "sk": item["sk"]}}})
            ddb.batch_write_item(RequestItems={TABLE: requests})
        elif kind == "transact":
            pk = rng.choice(PKS)
            sks = rng.sample(SKS, 3)
            items: list[dict[str, Any]] = [
                {"Put": {"TableName": TABLE, "Item": random_item(rng, pk, sks[0])}},
                {"Update": {"TableName": TABLE, "Key": {"pk": {"S": pk}, "sk": {"S": sks[1]}},
                            "UpdateExpression": "SET gpk = :g", "ExpressionAttributeValues": {":g": {"S": "G1"}}}},
                {"Put": {"TableName": TABLE, "Item": random_item(rng, pk, sks[2]),
                         # fails (and cancels all three) when the item exists
                         "ConditionExpression": "attribute_not_exists(pk)"}},
            ]
            ddb.transact_write_items(TransactItems=items)
        else:
            ddb.put_item(TableName=TABLE, Item=random_item(rng), ConditionExpression="attribute_not_exists(pk)")
    except ClientError as error:
        assert error.response["Error"]["Code"] in {"ConditionalCheckFailedException", "TransactionCanceledException"}


def query_all(ddb: Any, **kwargs: Any) -> list[Any]:
    """Every page of a query (Limit + ExclusiveStartKey) with what moto said on each."""
    pages: list[Any] = []
    while True:
        page = ddb.query(TableName=TABLE, **kwargs)
        pages.append({k: page.get(k) for k in ("Items", "Count", "ScannedCount", "LastEvaluatedKey")})
        if "LastEvaluatedKey" not in page or len(pages) > 50:
            return pages
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def battery(ddb: Any) -> list[Any]:
    answers: list[Any] = []
    for pk in PKS:
        values = {":p": {"S": pk}}
        answers.append(query_all(ddb, KeyConditionExpression="pk = :p", ExpressionAttributeValues=values))
        answers.append(query_all(ddb, KeyConditionExpression="pk = :p AND begins_with(sk, :s)",
                                 ExpressionAttributeValues={**values, ":s": {"S": "S0"}}, ScanIndexForward=False))
        answers.append(query_all(ddb, KeyConditionExpression="pk = :p AND sk BETWEEN :a AND :b",
                                 ExpressionAttributeValues={**values, ":a": {"S": "S03"}, ":b": {"S": "S11"}}, Limit=3))
        answers.append(query_all(ddb, KeyConditionExpression="pk = :p", ExpressionAttributeValues={**values, ":t": {"S": "product"}},
                                 FilterExpression="team = :t", Limit=4, ProjectionExpression="sk, team"))
        answers.append(query_all(ddb, IndexName="by_lsk", KeyConditionExpression="pk = :p AND lsk >= :n",
                                 ExpressionAttributeValues={**values, ":n": {"N": "2"}}, Limit=2))
        answers.append(query_all(ddb, KeyConditionExpression="pk = :p", ExpressionAttributeValues=values, Select="COUNT"))
    for gpk in [*GPKS, "absent"]:
        values = {":g": {"S": gpk}}
        answers.append(query_all(ddb, IndexName="by_g", KeyConditionExpression="gpk = :g", ExpressionAttributeValues=values))
        answers.append(query_all(ddb, IndexName="by_g", KeyConditionExpression="gpk = :g AND gsk > :s",
                                 ExpressionAttributeValues={**values, ":s": {"S": "03"}}, ScanIndexForward=False, Limit=2))
    for team in TEAMS:
        answers.append(query_all(ddb, IndexName="by_team", KeyConditionExpression="team = :t",
                                 ExpressionAttributeValues={":t": {"S": team}}, Limit=5))
    for num in ["1", "2.0", "10"]:
        answers.append(query_all(ddb, IndexName="by_num", KeyConditionExpression="num = :n AND sk < :s",
                                 ExpressionAttributeValues={":n": {"N": num}, ":s": {"S": "S08"}}))
    return answers


def play(seed: int, writes: int, every: int) -> list[Any]:
    rng = random.Random(seed)
    ddb = boto3.client("dynamodb", region_name=REGION)
    create_table(ddb)
    answers = []
    for n in range(writes):
        one_write(ddb, rng)
        if n % every == every - 1:
            answers.append(battery(ddb))
    return answers


@pytest.mark.parametrize("seed", [1, 2])
def test_indexed_queries_answer_what_moto_answers(seed: int) -> None:
    # Given the same history of writes on moto as shipped and on the patched moto
    with mock_aws():
        shipped = play(seed, writes=150, every=50)
    with mock_aws(), dynamodb.patched():
        patched = play(seed, writes=150, every=50)
    # Then every query answered the same: items, order, counts, pages
    assert len(patched) == len(shipped) == 3
    for round_, (ours, theirs) in enumerate(zip(patched, shipped, strict=True)):
        for number, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            assert a == b, f"round {round_}, query {number}"
    assert any(page["Count"] for answers in shipped for query in answers for page in query), "the battery found items"


def test_a_query_reads_its_partition_not_the_table() -> None:
    # Given a table of 1,000 items in 100 partitions and 4 GSI partitions
    walked: list[int] = []
    original = dynamodb.ALL_ITEMS.original()

    def spy(table: Any) -> Any:
        items = original(table)
        walked.append(len(items))
        return items

    with mock_aws(), dynamodb.ALL_ITEMS.replaced_by(spy), dynamodb.indexed_queries():
        ddb = boto3.client("dynamodb", region_name=REGION)
        create_table(ddb)
        for n in range(1000):
            ddb.put_item(TableName=TABLE, Item={"pk": {"S": f"P{n % 100}"}, "sk": {"S": f"S{n:05d}"},
                                                "gpk": {"S": f"G{n % 4}"}, "gsk": {"S": f"{n:05d}"}})
        walked.clear()
        # When its base table and a GSI are queried
        base = ddb.query(TableName=TABLE, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "P7"}})
        index = ddb.query(TableName=TABLE, IndexName="by_g", KeyConditionExpression="gpk = :g AND gsk < :s",
                          ExpressionAttributeValues={":g": {"S": "G3"}, ":s": {"S": "00100"}})
        # Then the answers are complete, and the whole table was never walked
        assert [i["sk"]["S"] for i in base["Items"]] == [f"S{n:05d}" for n in range(7, 1000, 100)]
        assert index["Count"] == 25
        assert walked == []
        # (a Scan still reads everything, as it should)
        assert ddb.scan(TableName=TABLE, Select="COUNT")["Count"] == 1000
        assert walked == [1000]


def test_a_cancelled_transaction_leaves_no_items_stream_records_or_observed_puts() -> None:
    observed: list[dynamodb.Put] = []
    with mock_aws(), dynamodb.patched(), dynamodb.observing_puts(observed.append):
        from moto.dynamodb.models import dynamodb_backends

        ddb = boto3.client("dynamodb", region_name=REGION)
        create_table(ddb)
        ddb.put_item(TableName=TABLE, Item={"pk": {"S": "P0"}, "sk": {"S": "old"}, "gpk": {"S": "G0"}, "gsk": {"S": "1"}})
        ddb.put_item(TableName=TABLE, Item={"pk": {"S": "P0"}, "sk": {"S": "other"}})
        shard = dynamodb_backends["123456789012"][REGION].get_table(TABLE).stream_shard
        records_before, observed_before = len(shard.items), len(observed)

        def put(sk: str, gpk: str) -> dict[str, Any]:
            return {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "P0"}, "sk": {"S": sk}, "gpk": {"S": gpk},
                                                         "gsk": {"S": "1"}},
                            "ConditionExpression": "attribute_not_exists(pk)"}}

        # When a transaction writes a new item and an update, then fails on another existing item
        update = {"Update": {"TableName": TABLE, "Key": {"pk": {"S": "P0"}, "sk": {"S": "old"}},
                             "UpdateExpression": "SET gpk = :g", "ExpressionAttributeValues": {":g": {"S": "G9"}}}}
        with pytest.raises(ClientError) as failed:
            ddb.transact_write_items(TransactItems=[put("new", "G1"), update, put("other", "G2")])
        # Then nothing of it stays - items, index entries, stream records, observed puts
        assert failed.value.response["Error"]["Code"] == "TransactionCanceledException"
        assert ddb.scan(TableName=TABLE, Select="COUNT")["Count"] == 2
        assert ddb.get_item(TableName=TABLE, Key={"pk": {"S": "P0"}, "sk": {"S": "old"}})["Item"]["gpk"] == {"S": "G0"}
        for gpk, count in (("G0", 1), ("G1", 0), ("G2", 0), ("G9", 0)):
            assert ddb.query(TableName=TABLE, IndexName="by_g", KeyConditionExpression="gpk = :g",
                             ExpressionAttributeValues={":g": {"S": gpk}})["Count"] == count
        assert len(shard.items) == records_before
        assert len(observed) == observed_before
        # And a transaction that commits is observed once it has, one Put each
        ddb.transact_write_items(TransactItems=[put("a", "G1"), put("b", "G1")])
        assert [(p.item["sk"]["S"], p.creates) for p in observed[observed_before:]] == [("a", True), ("b", True)]
        assert len(shard.items) == records_before + 2


def test_transactions_never_copy_a_table() -> None:
    import copy

    from moto.dynamodb.models.table import Table

    real = copy.deepcopy
    tables_copied: list[str] = []

    def deepcopy(obj: Any, *args: Any) -> Any:
        if isinstance(obj, Table):
            tables_copied.append(obj.name)
        return real(obj, *args)

    with mock_aws(), dynamodb.patched(), mock.patch.object(copy, "deepcopy", deepcopy):
        ddb = boto3.client("dynamodb", region_name=REGION)
        create_table(ddb)
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "P1"}, "sk": {"S": f"S{n}"}}}} for n in range(5)])
    assert tables_copied == []


def test_transactions_nest_without_wrapping_twice() -> None:
    with mock_aws(), dynamodb.transactions():
        installed = dynamodb.TRANSACT.original()
        with dynamodb.transactions():
            assert dynamodb.TRANSACT.original() is installed
        assert dynamodb.TRANSACT.original() is installed


def test_concurrent_writers_get_contiguous_stream_sequence_numbers() -> None:
    with mock_aws(), dynamodb.patched():
        from moto.dynamodb.models import dynamodb_backends

        ddb = boto3.client("dynamodb", region_name=REGION)
        create_table(ddb)

        def writer(n: int) -> None:
            client = boto3.client("dynamodb", region_name=REGION)
            for i in range(25):
                client.put_item(TableName=TABLE, Item={"pk": {"S": f"P{n}"}, "sk": {"S": f"S{i:03d}"}})

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        shard = dynamodb_backends["123456789012"][REGION].get_table(TABLE).stream_shard
        first = shard.starting_sequence_number
        # Then 100 records, numbered without gaps or repeats; trimming keeps the numbering
        numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in dynamodb.records(shard, first, 1000)]
        assert numbers == list(range(first, first + 100))
        assert dynamodb.trim(shard, first + 59) == 60
        assert [int(r["dynamodb"]["SequenceNumber"]) for r in dynamodb.records(shard, first + 60, 5)] == list(
            range(first + 60, first + 65))
        ddb.put_item(TableName=TABLE, Item={"pk": {"S": "P9"}, "sk": {"S": "late"}})
        assert dynamodb.last_sequence(shard) == first + 100


@pytest.fixture
def woken() -> Iterator[threading.Event]:
    event = threading.Event()

    def wait() -> None:
        with dynamodb.records_added:
            if dynamodb.records_added.wait(10):
                event.set()

    thread = threading.Thread(target=wait, daemon=True)
    thread.start()
    yield event
    thread.join(1)


def test_a_new_stream_record_wakes_a_waiting_poller(woken: threading.Event) -> None:
    with mock_aws(), dynamodb.patched():
        ddb = boto3.client("dynamodb", region_name=REGION)
        create_table(ddb)
        ddb.put_item(TableName=TABLE, Item={"pk": {"S": "P0"}, "sk": {"S": "S0"}})
        assert woken.wait(10)
