#!/usr/bin/env python3
"""One end of a TCP connection for the capture fixtures (see record.sh).

peer.py MODE ROLE: ROLE is server (198.18.0.1:8080) or client. Every
socket has a timeout, so a fixture that goes wrong ends instead of hanging.
"""
import socket
import struct
import sys
import time

SERVER = ("198.18.0.1", 8080)
T = 10  # seconds, bound on every blocking call


def listen(rcvbuf=None):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind(SERVER)
    s.listen(1)
    s.settimeout(T)
    c, _ = s.accept()
    c.settimeout(T)
    s.close()
    return c


def connect(port=SERVER[1]):
    c = socket.socket()
    c.settimeout(T)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    c.connect((SERVER[0], port))
    return c


def drain(c):
    n = 0
    while True:
        b = c.recv(65536)
        if not b:
            return n
        n += len(b)


def main():
    mode, role = sys.argv[1], sys.argv[2]
    if mode == "normal":
        if role == "server":
            c = listen()
            c.recv(1024)
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, world!")
            drain(c)
            c.close()
        else:
            c = connect()
            c.sendall(b"GET / HTTP/1.1\r\nHost: server\r\n\r\n")
            c.recv(1024)
            c.close()
    elif mode == "simclose":
        # Both ends shut down at once; record.sh drops the first FIN in
        # each direction, so each FIN is sent before the other arrives.
        if role == "server":
            c = listen()
            c.recv(1)
            c.sendall(b"y")
        else:
            c = connect()
            c.sendall(b"x")
            c.recv(1)
        c.shutdown(socket.SHUT_WR)
        drain(c)
        time.sleep(0.3)
        c.close()
    elif mode == "rst":
        if role == "server":
            c = listen()
            c.recv(1024)
            time.sleep(0.5)
            c.close()
        else:
            # A connection refused: nothing listens on 8081.
            try:
                connect(8081)
            except ConnectionRefusedError:
                pass
            # An abort: SO_LINGER with a zero timeout makes close send RST.
            c = connect()
            c.sendall(b"hello" * 20)
            time.sleep(0.1)
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.close()
    elif mode == "retrans":
        if role == "server":
            c = listen()
            n = drain(c)
            c.sendall(str(n).encode())
            c.close()
        else:
            c = connect()
            for _ in range(8):
                c.send(b"d" * 500)
            c.shutdown(socket.SHUT_WR)
            c.recv(64)
            c.close()
    elif mode == "zerowin":
        if role == "server":
            c = listen(rcvbuf=2048)
            time.sleep(1.5)  # not reading: the window closes
            drain(c)
            c.close()
        else:
            c = connect()
            c.sendall(b"z" * 20000)
            c.shutdown(socket.SHUT_WR)
            drain(c)
            c.close()
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
