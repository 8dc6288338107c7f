#!/usr/bin/env python3
"""The ends of the IPv6 and ICMP capture fixtures (see record-icmp.sh).

icmp.py server ADDR...: accept TCP connections on port 8080 of each ADDR
until killed; read each to its end, answer with the count of bytes and a
small page, close.

icmp.py MODE ADDR: the client side, to the server at ADDR:
  get     a request and a 3000-byte response
  bulk    six 1400-byte writes, 20 ms apart: on a path with a 1280-byte
          link each is too big, and the router answers with an ICMP error
  refused a connection to port 8081, which a rule rejects (ICMP
          administratively prohibited) or port 8082 (port unreachable)
  ttl     a connection with a TTL / hop limit of 1: Time Exceeded
  ping    one echo request, and its reply
Every socket has a timeout, so a fixture that goes wrong ends.
"""
import select
import socket
import struct
import sys
import time

T = 5  # seconds, bound on every blocking call


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def serve(addrs):
    socks = []
    for a in addrs:
        s = socket.socket(family(a))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((a, 8080))
        s.listen(8)
        socks.append(s)
    end = time.time() + 60
    while time.time() < end:
        ready, _, _ = select.select(socks, [], [], 1)
        for s in ready:
            c, _ = s.accept()
            c.settimeout(T)
            n = 0
            try:
                while True:
                    b = c.recv(65536)
                    if not b:
                        break
                    n += len(b)
                    if b.endswith(b"\r\n\r\n"):
                        break
                body = b"x" * 3000 if n < 200 else str(n).encode()
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
                c.shutdown(socket.SHUT_WR)
                while c.recv(65536):
                    pass
            except OSError:
                pass
            c.close()


def connect(addr, port, hops=None, timeout=T):
    c = socket.socket(family(addr))
    c.settimeout(timeout)
    if hops is not None:
        if family(addr) == socket.AF_INET6:
            c.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, hops)
        else:
            c.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, hops)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    c.connect((addr, port))
    return c


def drain(c):
    while c.recv(65536):
        pass


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def ping(addr):
    data = b"synack" * 8
    if family(addr) == socket.AF_INET6:
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        msg = struct.pack("!BBHHH", 128, 0, 0, 7, 1) + data  # the kernel sums it
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        msg = struct.pack("!BBHHH", 8, 0, 0, 7, 1) + data
        msg = msg[:2] + struct.pack("!H", checksum(msg)) + msg[4:]
    s.settimeout(T)
    s.sendto(msg, (addr, 0))
    s.recv(2048)  # the reply


def main():
    mode = sys.argv[1]
    if mode == "server":
        serve(sys.argv[2:])
        return
    addr = sys.argv[2]
    if mode == "get":
        c = connect(addr, 8080)
        c.sendall(b"GET / HTTP/1.1\r\nHost: server\r\n\r\n")
        drain(c)
        c.close()
    elif mode == "bulk":
        c = connect(addr, 8080)
        for _ in range(6):
            c.send(b"d" * 1400)
            time.sleep(0.02)
        c.shutdown(socket.SHUT_WR)
        drain(c)
        c.close()
    elif mode == "refused":
        for port in (8081, 8082):
            try:
                connect(addr, port)
            except OSError as e:
                print("port %d: %s" % (port, e))
    elif mode == "ttl":
        try:
            connect(addr, 8080, hops=1, timeout=1.5)
        except OSError as e:
            print("ttl 1: %s" % e)
    elif mode == "ping":
        ping(addr)
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
