"""The agent console in AWS: its hosting and its sign-in, and publishing a release of it.

Template (merged by :func:`infra.template.merge_template`):

- ``ConsoleBucket``: private (public access blocked, bucket-owner-enforced, SSE-S3, TLS only);
  only CloudFront may read it, through ``ConsoleOriginAccessControl`` (OAC, SigV4) and a
  bucket policy conditioned on the distribution's ARN;
- ``ConsoleDistribution``: HTTPS only, compressed, ``index.html`` as root; the cache honours
  the objects' own ``Cache-Control`` (``ConsoleCachePolicy``: a release's ``app-<hash>/``
  files for a year, ``index.html`` and ``config.json`` revalidated), and
  ``ConsoleResponseHeaders`` adds the security headers of :mod:`console.site` (CSP allowing
  requests to the stage's API and the user pool's hosted UI only, HSTS, nosniff, no framing);
- ``UserPoolDomain``: the Cognito hosted UI the console signs in with (authorization code +
  PKCE); the app client's callback and logout URL is the distribution's;
- CORS: the API allows the distribution's origin only. ``chalice package`` writes the
  preflight answers with :data:`CONSOLE_ORIGIN_PLACEHOLDER` (``python -m infra package`` runs it
  with that origin), :func:`bind_console_origin` turns every occurrence into the distribution's
  domain; the API function reads the same value from ``CONSOLE_ORIGIN``; API Gateway's own
  4XX/5XX answers (an expired token's 401) carry the header too, so the console can read them.

Publishing (:func:`publish`, run by ``python -m infra deploy`` after the stack is up): the
release ``make package`` built (``build/<stage>/console/``) goes to the bucket with each
file's content type and cache header, then ``config.json`` made from the stack's outputs
(API URL, user pool domain and app client, report link), then the entry points are
invalidated in CloudFront. The previous release's assets stay (a page loaded before the
deploy can still fetch them), older ones are deleted.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from console import site
from infra.resources import APP_NAME

CONSOLE_ORIGIN_PLACEHOLDER = "https://console-origin.placeholder.invalid"
DISTRIBUTION = "ConsoleDistribution"
ORIGIN = f"https://${{{DISTRIBUTION}.DomainName}}"  # Fn::Sub text of the console's origin
API_SOURCES = ("https://*.execute-api.${AWS::Region}.${AWS::URLSuffix}",)
# CloudFront's managed CachingOptimized policy keeps an object at least 1 s even when it says
# no-cache: the console's own policy (MinTTL 0) follows each object's Cache-Control exactly.
YEAR_S = 31536000
ALLOWED_API_HEADERS = "Authorization,Content-Type,Idempotency-Key"


def user_pool_domain_prefix(stage: str) -> str:
    """Hosted UI domain prefix (globally unique per region, hence the account)."""
    return f"{APP_NAME}-{stage}-${{AWS::AccountId}}"


def hosted_ui_url(stage: str) -> str:
    return f"https://{user_pool_domain_prefix(stage)}.auth.${{AWS::Region}}.amazoncognito.com"


def resources(stage: str) -> dict[str, Any]:
    prefix = f"{APP_NAME}-{stage}-console"
    csp = site.content_security_policy([*API_SOURCES, hosted_ui_url(stage)])
    return {
        "ConsoleBucket": {
            "Type": "AWS::S3::Bucket",
            "DeletionPolicy": "Delete",  # holds only a rebuildable release (empty it to delete the stack)
            "UpdateReplacePolicy": "Delete",
            "Properties": {
                "BucketName": {"Fn::Sub": f"{prefix}-${{AWS::AccountId}}-${{AWS::Region}}"},
                "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                                   "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
                "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
                "LifecycleConfiguration": {"Rules": [
                    {"Id": "abort-incomplete-uploads", "Status": "Enabled", "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}]},
            },
        },
        "ConsoleBucketPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": {"Ref": "ConsoleBucket"},
                "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                    {
                        "Sid": "CloudFrontReadsThroughOriginAccessControl",
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudfront.amazonaws.com"},
                        "Action": "s3:GetObject",
                        "Resource": {"Fn::Sub": "${ConsoleBucket.Arn}/*"},
                        "Condition": {"StringEquals": {"AWS:SourceArn": {
                            "Fn::Sub": f"arn:${{AWS::Partition}}:cloudfront::${{AWS::AccountId}}:distribution/${{{DISTRIBUTION}}}"}}},
                    },
                    {
                        "Sid": "TlsOnly",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [{"Fn::GetAtt": ["ConsoleBucket", "Arn"]}, {"Fn::Sub": "${ConsoleBucket.Arn}/*"}],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    },
                ]},
            },
        },
        "ConsoleOriginAccessControl": {
            "Type": "AWS::CloudFront::OriginAccessControl",
            "Properties": {"OriginAccessControlConfig": {
                "Name": prefix, "Description": "CloudFront reads the console bucket (SigV4)",
                "OriginAccessControlOriginType": "s3", "SigningBehavior": "always", "SigningProtocol": "sigv4",
            }},
        },
        "ConsoleCachePolicy": {
            "Type": "AWS::CloudFront::CachePolicy",
            "Properties": {"CachePolicyConfig": {
                "Name": prefix, "Comment": "Follow the objects' Cache-Control; compressed variants",
                "MinTTL": 0, "DefaultTTL": 60, "MaxTTL": YEAR_S,
                "ParametersInCacheKeyAndForwardedToOrigin": {
                    "EnableAcceptEncodingGzip": True, "EnableAcceptEncodingBrotli": True,
                    "CookiesConfig": {"CookieBehavior": "none"}, "HeadersConfig": {"HeaderBehavior": "none"},
                    "QueryStringsConfig": {"QueryStringBehavior": "none"},
                },
            }},
        },
        "ConsoleResponseHeaders": {
            "Type": "AWS::CloudFront::ResponseHeadersPolicy",
            "Properties": {"ResponseHeadersPolicyConfig": {
                "Name": prefix, "Comment": "Security headers of the agent console (console/site.py)",
                "SecurityHeadersConfig": {
                    "ContentSecurityPolicy": {"ContentSecurityPolicy": {"Fn::Sub": csp}, "Override": True},
                    "ContentTypeOptions": {"Override": True},
                    "FrameOptions": {"FrameOption": "DENY", "Override": True},
                    "ReferrerPolicy": {"ReferrerPolicy": "no-referrer", "Override": True},
                    "StrictTransportSecurity": {"AccessControlMaxAgeSec": 63072000, "IncludeSubdomains": True, "Override": True},
                },
            }},
        },
        DISTRIBUTION: {
            "Type": "AWS::CloudFront::Distribution",
            "Properties": {"DistributionConfig": {
                "Enabled": True,
                "Comment": f"{APP_NAME} {stage} agent console",
                "DefaultRootObject": site.INDEX,
                "HttpVersion": "http2and3",
                "IPV6Enabled": True,
                "PriceClass": "PriceClass_All",
                "Origins": [{
                    "Id": "console-bucket",
                    "DomainName": {"Fn::GetAtt": ["ConsoleBucket", "RegionalDomainName"]},
                    "S3OriginConfig": {"OriginAccessIdentity": ""},
                    "OriginAccessControlId": {"Fn::GetAtt": ["ConsoleOriginAccessControl", "Id"]},
                }],
                "DefaultCacheBehavior": {
                    "TargetOriginId": "console-bucket",
                    "ViewerProtocolPolicy": "redirect-to-https",
                    "AllowedMethods": ["GET", "HEAD"],
                    "CachedMethods": ["GET", "HEAD"],
                    "Compress": True,
                    "CachePolicyId": {"Ref": "ConsoleCachePolicy"},
                    "ResponseHeadersPolicyId": {"Ref": "ConsoleResponseHeaders"},
                },
                "ViewerCertificate": {"CloudFrontDefaultCertificate": True},
            }},
        },
        "UserPoolDomain": {
            "Type": "AWS::Cognito::UserPoolDomain",
            "Properties": {"Domain": {"Fn::Sub": user_pool_domain_prefix(stage)}, "UserPoolId": {"Ref": "UserPool"}},
        },
    }


def user_pool_client_oauth() -> dict[str, Any]:
    """What the app client needs for the hosted UI (merged into its properties)."""
    url = {"Fn::Sub": f"{ORIGIN}/"}
    return {
        "AllowedOAuthFlows": ["code"],
        "AllowedOAuthFlowsUserPoolClient": True,
        "AllowedOAuthScopes": ["openid", "email", "profile"],
        "CallbackURLs": [url],
        "LogoutURLs": [url],
        "SupportedIdentityProviders": ["COGNITO"],
    }


def gateway_responses() -> dict[str, Any]:
    """API Gateway's own error answers (authorizer 401/403, throttling 429, 5XX) readable by the console."""
    headers = {
        "gatewayresponse.header.Access-Control-Allow-Origin": f"'{CONSOLE_ORIGIN_PLACEHOLDER}'",
        "gatewayresponse.header.Access-Control-Allow-Headers": f"'{ALLOWED_API_HEADERS}'",
    }
    return {kind: {"responseParameters": headers} for kind in ("DEFAULT_4XX", "DEFAULT_5XX")}


def parameters() -> dict[str, Any]:
    return {
        "ReportUrl": {
            "Type": "String",
            "Default": "",
            "AllowedPattern": r"^(https://.+)?$",
            "Description": "Optional: where ops publish the report (python -m local report --endpoint ...); the console's "
                           "Report link for supervisors, with {from}, {to} and {lang} filled in. Empty: no link.",
        },
    }


def outputs(stage: str) -> dict[str, Any]:
    def out(description: str, value: Any) -> dict[str, Any]:
        return {"Description": description, "Value": value}

    return {
        "ConsoleUrl": out("The agent console", {"Fn::Sub": f"{ORIGIN}/"}),
        "ConsoleBucketName": out("Private bucket of the console's files (published by python -m infra deploy)", {"Ref": "ConsoleBucket"}),
        "ConsoleDistributionId": out("CloudFront distribution of the console", {"Ref": DISTRIBUTION}),
        "UserPoolDomainUrl": out("Cognito hosted UI (the console's sign-in)", {"Fn::Sub": hosted_ui_url(stage)}),
        "ConsoleReportUrl": out("The report link supervisors get in the console (parameter ReportUrl)", {"Ref": "ReportUrl"}),
    }


def bind_console_origin(node: Any) -> Any:
    """Every string holding the placeholder origin -> ``Fn::Sub`` of the distribution's domain."""
    if isinstance(node, dict):
        return {k: bind_console_origin(v) for k, v in node.items()}
    if isinstance(node, list):
        return [bind_console_origin(v) for v in node]
    if isinstance(node, str) and CONSOLE_ORIGIN_PLACEHOLDER in node:
        if "${" in node:
            raise ValueError(f"cannot bind the console origin in a string that is already a Sub template: {node!r}")
        return {"Fn::Sub": node.replace(CONSOLE_ORIGIN_PLACEHOLDER, ORIGIN)}
    return node


# -- publishing a release ---------------------------------------------------------------------------
class PublishError(RuntimeError):
    pass


_RELEASE = re.compile(rf'"{site.ASSETS}-([0-9a-f]+)/')


def console_config(stage: str, outputs: dict[str, str]) -> site.ConsoleConfig:
    """``config.json`` of a deployed stage, from its stack outputs."""
    missing = [k for k in ("EndpointURL", "ConsoleUrl", "UserPoolDomainUrl", "UserPoolClientId") if not outputs.get(k)]
    if missing:
        raise PublishError(f"the stack has no {', '.join(missing)} output: is it this template's stack?")
    report = outputs.get("ConsoleReportUrl") or ""
    return site.ConsoleConfig(
        api=outputs["EndpointURL"].rstrip("/"),
        stage=stage,
        auth=site.CognitoSignIn(domain=outputs["UserPoolDomainUrl"].rstrip("/"), client_id=outputs["UserPoolClientId"],
                                redirect_uri=outputs["ConsoleUrl"]),
        report=site.LinkedReport(url=report) if report else None,
    )


def publish(session: Any, release_dir: Path, stage: str, outputs: dict[str, str], log: Any = print) -> dict[str, Any]:
    """Upload the release in ``release_dir`` and its config; returns what was done."""
    from botocore.exceptions import ClientError

    manifest_path = release_dir / "manifest.json"
    if not manifest_path.is_file():
        raise PublishError(f"{release_dir} has no manifest.json: run `make package STAGE={stage}` first")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    config = console_config(stage, outputs)
    bucket = outputs.get("ConsoleBucketName") or ""
    distribution = outputs.get("ConsoleDistributionId") or ""
    if not bucket or not distribution:
        raise PublishError("the stack has no ConsoleBucketName / ConsoleDistributionId output")
    s3, cloudfront = session.client("s3"), session.client("cloudfront")

    try:
        previous_index = s3.get_object(Bucket=bucket, Key=site.INDEX)["Body"].read().decode("utf-8")
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("NoSuchKey", "404"):
            raise
        previous_index = ""
    keep = {manifest["release"], *_RELEASE.findall(previous_index)}

    # assets first, entry points last: a browser never gets an index.html whose files are not there yet
    entries = (site.INDEX,)
    ordered = sorted(manifest["files"], key=lambda key: key in entries)
    for key in ordered:
        meta = manifest["files"][key]
        s3.put_object(Bucket=bucket, Key=key, Body=(release_dir / key).read_bytes(),
                      ContentType=meta["content_type"], CacheControl=meta["cache_control"])
    s3.put_object(Bucket=bucket, Key=site.CONFIG, Body=config.body(), ContentType=site.CONTENT_TYPES[".json"],
                  CacheControl=site.REVALIDATE)

    stale: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{site.ASSETS}-"):
        for item in page.get("Contents", []):
            release = item["Key"].split("/", 1)[0].removeprefix(f"{site.ASSETS}-")
            if release not in keep:
                stale.append(item["Key"])
    for start in range(0, len(stale), 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in stale[start:start + 1000]], "Quiet": True})

    paths = ["/", f"/{site.INDEX}", f"/{site.CONFIG}"]
    invalidation = cloudfront.create_invalidation(DistributionId=distribution, InvalidationBatch={
        "Paths": {"Quantity": len(paths), "Items": paths}, "CallerReference": f"deploy-{time.time_ns()}"})
    log(f"console release {manifest['release']}: {len(ordered)} files to s3://{bucket}, {len(stale)} stale removed, "
        f"CloudFront invalidation {invalidation['Invalidation']['Id']} -> {outputs['ConsoleUrl']}")
    return {"release": manifest["release"], "uploaded": len(ordered) + 1, "deleted": stale,
            "invalidation": invalidation["Invalidation"]["Id"], "config": config}
