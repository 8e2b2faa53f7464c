"""Python asyncio's echo server (RFC 862), the Protocol form from the
asyncio documentation: the fastest echo the standard library offers.

usage: asyncio_echo.py PORT   (binds 127.0.0.1)
"""
import asyncio
import sys


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)


async def main(port):
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Echo, "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
