"""OP_COMPRESSED: a client that negotiates zstd gets compressed replies and can send
compressed commands."""


def test_zstd_is_negotiated_and_used(server):
    with server.client(compressors="zstd", directConnection=True) as client:
        hello = client.admin.command("hello")
        assert client.admin.command("ping")["ok"] == 1.0
        # The negotiated compressor is recorded on the pooled connection.
        pool = next(iter(client._topology._servers.values())).pool
        conn = next(iter(pool.conns))
        assert conn.compression_context is not None
        assert conn.compression_context.compressor_id == 3
        big = client.admin.command("listCommands")
        assert "ping" in big["commands"]
        assert hello["ok"] == 1.0


def test_unknown_compressor_is_not_negotiated(server):
    with server.client(compressors="zlib", directConnection=True) as client:
        assert client.admin.command("ping")["ok"] == 1.0
        pool = next(iter(client._topology._servers.values())).pool
        conn = next(iter(pool.conns))
        assert conn.compression_context is None
