"""boto3 against a running ecrd (ECRD_URL): repositories, a multi-part
layer upload, BatchCheckLayerAvailability and the exceptions of each."""
import hashlib
import os
import sys

import boto3
import botocore
import botocore.exceptions
from botocore.config import Config

ACCOUNT = "123456789012"
ecr = boto3.client(
    "ecr",
    endpoint_url=os.environ["ECRD_URL"],
    region_name="us-east-1",
    aws_access_key_id="test",
    aws_secret_access_key="test",
    config=Config(retries={"max_attempts": 1}),
)
MIB = 1 << 20
results = {"passed": 0, "failed": 0}


def case(fn):
    try:
        fn()
        results["passed"] += 1
        print("ok:", fn.__name__)
    except Exception as e:  # report every case, then fail at the end
        results["failed"] += 1
        print("FAIL:", fn.__name__, repr(e))
    return fn


def expect_error(code, call, **kw):
    try:
        call(**kw)
    except botocore.exceptions.ClientError as e:
        got = e.response["Error"]["Code"]
        assert got == code, f"got {got}: {e}"
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400, e.response
        assert e.response["ResponseMetadata"]["RequestId"], e.response
        return e.response["Error"]
    raise AssertionError(f"no {code}")


def push(repo, data, part=10 * MIB):
    up = ecr.initiate_layer_upload(repositoryName=repo)
    assert up["partSize"] > 0
    for off in range(0, len(data), part):
        chunk = data[off:off + part]
        r = ecr.upload_layer_part(repositoryName=repo, uploadId=up["uploadId"], partFirstByte=off,
                                  partLastByte=off + len(chunk) - 1, layerPartBlob=chunk)
        assert r["lastByteReceived"] == off + len(chunk) - 1, r
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    r = ecr.complete_layer_upload(repositoryName=repo, uploadId=up["uploadId"], layerDigests=[digest])
    assert r["layerDigest"] == digest and r["registryId"] == ACCOUNT and r["repositoryName"] == repo, r
    return digest


@case
def create_and_describe():
    r = ecr.create_repository(repositoryName="py/app", tags=[{"Key": "a", "Value": "b"}])["repository"]
    assert r["repositoryArn"] == f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/py/app", r
    assert r["createdAt"].year >= 2024, r
    for n in ["py/b", "py/c"]:
        ecr.create_repository(repositoryName=n)
    names = []
    for page in ecr.get_paginator("describe_repositories").paginate(PaginationConfig={"PageSize": 2}):
        names += [x["repositoryName"] for x in page["repositories"]]
    assert names == ["py/app", "py/b", "py/c"], names
    expect_error("RepositoryAlreadyExistsException", ecr.create_repository, repositoryName="py/app")
    # botocore checks only length client side; the pattern is the server's.
    err = expect_error("InvalidParameterException", ecr.create_repository, repositoryName="Py/App")
    assert "repositoryName" in err["Message"], err


@case
def upload_and_check():
    data = os.urandom(25 * MIB + 17)
    d = push("py/app", data)
    absent = "sha256:" + "0" * 64
    out = ecr.batch_check_layer_availability(repositoryName="py/app", layerDigests=[d, absent, "bogus", d])
    assert [(l["layerDigest"], l["layerAvailability"], l["layerSize"]) for l in out["layers"]] == [(d, "AVAILABLE", len(data))] * 2, out
    assert [(f["layerDigest"], f["failureCode"]) for f in out["failures"]] == [(absent, "MissingLayerDigest"), ("bogus", "InvalidLayerDigest")], out
    other = ecr.batch_check_layer_availability(repositoryName="py/b", layerDigests=[d])
    assert other["layers"] == [] and other["failures"][0]["failureCode"] == "MissingLayerDigest", other


@case
def upload_errors():
    up = ecr.initiate_layer_upload(repositoryName="py/app")["uploadId"]
    ecr.upload_layer_part(repositoryName="py/app", uploadId=up, partFirstByte=0, partLastByte=9, layerPartBlob=b"0123456789")
    err = expect_error("InvalidLayerPartException", ecr.upload_layer_part, repositoryName="py/app", uploadId=up,
                       partFirstByte=20, partLastByte=29, layerPartBlob=b"0123456789")
    assert err["Message"], err
    expect_error("InvalidLayerException", ecr.complete_layer_upload, repositoryName="py/app", uploadId=up,
                 layerDigests=["sha256:" + "1" * 64])
    expect_error("UploadNotFoundException", ecr.complete_layer_upload, repositoryName="py/app",
                 uploadId="00000000-0000-4000-8000-000000000000", layerDigests=["sha256:" + "1" * 64])
    empty = ecr.initiate_layer_upload(repositoryName="py/app")["uploadId"]
    expect_error("EmptyUploadException", ecr.complete_layer_upload, repositoryName="py/app", uploadId=empty,
                 layerDigests=["sha256:" + "1" * 64])
    expect_error("RepositoryNotFoundException", ecr.initiate_layer_upload, repositoryName="py/none")


@case
def check_limits():
    expect_error("InvalidParameterException", ecr.batch_check_layer_availability, repositoryName="py/app",
                 layerDigests=["sha256:" + "1" * 64] * 101)
    expect_error("RepositoryNotFoundException", ecr.batch_check_layer_availability, repositoryName="py/none",
                 layerDigests=["sha256:" + "1" * 64])
    # Another account's registry, without a policy of its that allows it: AWS's refusal, word for word.
    err = expect_error("AccessDeniedException", ecr.batch_check_layer_availability, registryId="999999999999",
                       repositoryName="py/app", layerDigests=["sha256:" + "1" * 64])
    assert err["Message"] == ("User: arn:aws:iam::" + ACCOUNT + ":user/test is not authorized to perform: "
                              "ecr:BatchCheckLayerAvailability on resource: arn:aws:ecr:us-east-1:999999999999:repository/py/app "
                              "because no resource-based policy allows the ecr:BatchCheckLayerAvailability action"), err


def client(**kw):
    args = dict(endpoint_url=os.environ["ECRD_URL"], region_name="us-east-1", aws_access_key_id="test",
                aws_secret_access_key="test", config=Config(retries={"max_attempts": 1}))
    args.update(kw)
    return boto3.client("ecr", **args)


def expect_auth_error(code, c, part=""):
    try:
        c.describe_repositories()
    except botocore.exceptions.ClientError as e:
        assert e.response["Error"]["Code"] == code, e
        assert part in e.response["Error"]["Message"], e
        return
    raise AssertionError(f"no {code}")


@case
def signature_errors():
    expect_auth_error("InvalidSignatureException", client(aws_secret_access_key="wrong"), "The request signature we calculated does not match")
    expect_auth_error("UnrecognizedClientException", client(aws_access_key_id="AKIDNOBODY"), "The security token included in the request is invalid.")
    expect_auth_error("InvalidSignatureException", client(region_name="eu-west-1"), "us-east-1")
    expect_auth_error("MissingAuthenticationTokenException", client(config=Config(signature_version=botocore.UNSIGNED, retries={"max_attempts": 1})))


@case
def tampered_after_signing():
    # Change the request after botocore signed it, as a man in the middle would.
    def tamper_body(request, **_):
        request.body = b'{"repositoryNames": ["py/b"]}'
    c = client()
    c.meta.events.register("before-send.ecr.DescribeRepositories", tamper_body)
    expect_auth_error("InvalidSignatureException", c, "does not match")

    def tamper_target(request, **_):
        request.headers["X-Amz-Target"] = "AmazonEC2ContainerRegistry_V20150921.DeleteRepository"
    c = client()
    c.meta.events.register("before-send.ecr.DescribeRepositories", tamper_target)
    expect_auth_error("InvalidSignatureException", c, "does not match")


@case
def expired_signature():
    # Sign with a clock 20 minutes slow, as a machine with a drifted clock would.
    import datetime
    import botocore.auth
    real = botocore.auth.datetime.datetime

    class Slow(real):
        @classmethod
        def utcnow(cls):
            return real.utcnow() - datetime.timedelta(minutes=20)

        @classmethod
        def now(cls, tz=None):
            return real.now(tz) - datetime.timedelta(minutes=20)

    botocore.auth.datetime.datetime = Slow
    try:
        expect_auth_error("InvalidSignatureException", client(), "Signature expired: ")
    finally:
        botocore.auth.datetime.datetime = real


@case
def authorization_token():
    import base64
    import time
    data = ecr.get_authorization_token()["authorizationData"]
    assert len(data) == 1, data
    assert base64.b64decode(data[0]["authorizationToken"]).startswith(b"AWS:"), data
    left = data[0]["expiresAt"].timestamp() - time.time()
    assert 11.9 * 3600 < left <= 12 * 3600, left
    assert data[0]["proxyEndpoint"] == os.environ["ECRD_URL"], data


@case
def delete():
    expect_error("RepositoryNotEmptyException", ecr.delete_repository, repositoryName="py/app")
    assert ecr.delete_repository(repositoryName="py/app", force=True)["repository"]["repositoryName"] == "py/app"
    expect_error("RepositoryNotFoundException", ecr.delete_repository, repositoryName="py/app")


print(f"boto3: {results['passed']} passed, {results['failed']} failed")
sys.exit(1 if results["failed"] else 0)
