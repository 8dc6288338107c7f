package i18n

// catalog is every English string with its Simplified Chinese translation.
// Terms follow the Chinese textbooks: 报文段 (segment), 序号 Seq, 确认号
// Ack, 标志位, 窗口, 重传, 超时, 三次握手, 四次挥手, 半关闭, 同时打开, 同时
// 关闭; a state keeps its RFC 9293 name, glossed on its first use in a text.
var catalog = []Message{
	// Scenarios (package sim): titles and the explanations under the ladder.

	// demo
	{"A whole connection: handshake, an HTTP request and response, the four-way close",
		"一条完整的连接：三次握手、一次 HTTP 请求与响应、四次挥手"},
	{`The client opens with SYN, the server answers SYN-ACK, the client's ACK completes the
three-way handshake: each side has now seen the other's initial sequence number acknowledged.
The request and response flow as data, each acknowledged. The client closes first (FIN); the
server acknowledges it, finishes, and sends its own FIN: four segments, because each direction
is closed on its own. The client, which closed first, waits in TIME-WAIT for 2·MSL before
its connection disappears, so that a late duplicate cannot be taken for a new connection's data.`,
		`客户端发出 SYN，服务器以 SYN-ACK 应答，客户端再发出 ACK，三次握手完成：此时双方
各自选定的初始序号（ISN）都已得到对方的确认。接着请求和响应作为数据传送，每个报文段
都得到确认。客户端先关闭（发出 FIN）；服务器确认这个 FIN，处理完自己的工作后再发出
自己的 FIN。关闭一共用了四个报文段，因为两个方向要分别关闭。先关闭的客户端进入
TIME-WAIT（时间等待）状态，等待 2MSL 之后连接才真正消失，这样网络中迟到的重复报文段
就不会被当成新连接的数据。`},

	// handshake
	{"The three-way handshake", "三次握手"},
	{`SYN, SYN-ACK, ACK. Three messages because each side must choose an initial sequence
number and see it acknowledged: the client's SYN is acknowledged by the SYN-ACK, the server's
SYN by the final ACK. With only two, the server could not tell a fresh SYN from an old
duplicate (see the stale-syn scenario).`,
		`SYN、SYN-ACK、ACK。之所以需要三个报文段，是因为双方都要选定一个初始序号，并看到它
被对方确认：客户端的 SYN 由 SYN-ACK 确认，服务器的 SYN 由最后的 ACK 确认。如果只有
两次，服务器就无法分辨一个新的 SYN 和一个早已失效的重复 SYN（见 stale-syn 场景）。`},

	// close
	{"The four-way close and TIME-WAIT", "四次挥手与 TIME-WAIT"},
	{`The client closes: FIN-WAIT-1 until its FIN is acknowledged, then FIN-WAIT-2. The server
is in CLOSE-WAIT: it has been told there is no more data but may still send. When it closes it
goes to LAST-ACK, and the client's ACK of that FIN ends it. The client waits in TIME-WAIT for
2·MSL, both to re-acknowledge the server's FIN should the last ACK be lost, and so that old
segments of this connection die out before the same address pair can be used again.`,
		`客户端主动关闭：在它的 FIN 被确认之前处于 FIN-WAIT-1（终止等待 1），之后进入
FIN-WAIT-2（终止等待 2）。服务器处于 CLOSE-WAIT（关闭等待）：它已得知对方不会再发送
数据，但自己仍然可以发送。服务器关闭时进入 LAST-ACK（最后确认），收到客户端对这个
FIN 的 ACK 后连接结束。客户端在 TIME-WAIT（时间等待）状态等待 2MSL，原因有二：一是
万一最后的 ACK 丢失，它还能再次确认服务器重传的 FIN；二是让这条连接的旧报文段在网络中
消失，此后同一对地址和端口才能再被新的连接使用。`},

	// lost-syn
	{"The first SYN is lost", "第一个 SYN 丢失"},
	{`The client's SYN never arrives; nothing comes back. After the initial retransmission
timeout (1 s, RFC 6298) the client sends the SYN again, and the handshake completes one second
late. Had it been lost again the client would wait 2 s, then 4 s..., giving up after 6 retries.`,
		`客户端的 SYN 没有到达，所以也没有任何应答。等到初始的重传超时时间（RTO，1 秒，
RFC 6298）过去，客户端重传 SYN，握手晚了一秒完成。如果重传的 SYN 再次丢失，客户端会
依次等待 2 秒、4 秒……重试 6 次之后放弃。`},

	// lost-synack
	{"The SYN-ACK is lost", "SYN-ACK 丢失"},
	{`The server answered and waits in SYN-RECEIVED, but its SYN-ACK is lost. Both sides time
out: the client retransmits its SYN and the server its SYN-ACK. The server answers the repeated
SYN with the SYN-ACK again, and the first to arrive completes the handshake.`,
		`服务器已经应答，在 SYN-RECEIVED（同步已接收）状态等待，但它的 SYN-ACK 丢失了。双方
都会超时：客户端重传 SYN，服务器重传 SYN-ACK。服务器对重传的 SYN 再次以 SYN-ACK 应答，
先到达客户端的那个 SYN-ACK 完成握手。`},

	// stale-syn
	{"A delayed duplicate SYN: why the handshake takes three messages",
		"迟到的重复 SYN：握手为什么需要三次"},
	{`The client's first SYN is stuck in the network; the client retransmits it, the connection
is made, used and closed. Ten seconds later the old SYN finally arrives. The server cannot know
it is old: it answers SYN-ACK and waits in SYN-RECEIVED. But the client has no such connection,
so it answers with RST, and the server drops the half-open connection and goes back to LISTEN.
A two-way handshake would have opened a connection nobody asked for: the third message lets
the client, who knows which SYN is current, have the last word. (MSL is 1 s here so that
TIME-WAIT is over before the old SYN arrives.)`,
		`客户端的第一个 SYN 滞留在网络中；客户端超时后重传 SYN，随后连接建立、传送数据、关闭。
十秒之后，这个已经失效的连接请求（旧的 SYN）才到达服务器。服务器无法知道它是旧的：
照常以 SYN-ACK 应答，并在 SYN-RECEIVED（同步已接收）状态等待。但客户端并没有这样
一条连接，于是以 RST（复位）回应，服务器便丢弃这条半开连接，回到 LISTEN（监听）状态。
如果握手只有两次，服务器发出 SYN-ACK 时连接就已建立，这就成了一条谁也没有请求过的
连接；有了第三次握手，由客户端作最后的决定，而只有客户端知道哪个 SYN 才是它当前的
连接请求。本场景把 MSL 设为 1 秒，这样在旧 SYN 到达之前，客户端的 TIME-WAIT（时间等待）
就已经结束。`},

	// lost-final-ack
	{"The last ACK is lost: what TIME-WAIT is for", "最后的 ACK 丢失：TIME-WAIT 有什么用"},
	{`The client acknowledges the server's FIN and enters TIME-WAIT, but that ACK is lost. The
server, in LAST-ACK, times out and retransmits its FIN. The client is still in TIME-WAIT, so it
can acknowledge the FIN again (and restarts its 2·MSL wait); the server then closes cleanly.
Without TIME-WAIT the client would have forgotten the connection and answered with RST.`,
		`客户端确认了服务器的 FIN，进入 TIME-WAIT（时间等待），但这个 ACK 丢失了。处于
LAST-ACK（最后确认）的服务器超时后重传它的 FIN。客户端仍在 TIME-WAIT 状态，所以能够
再次确认这个 FIN（并重新开始 2MSL 的等待）；服务器随后正常关闭。如果没有 TIME-WAIT，
客户端早已忘掉这条连接，只会以 RST 回应。`},

	// half-close
	{"Half-close: the side in CLOSE-WAIT keeps sending", "半关闭：处于 CLOSE-WAIT 的一方继续发送"},
	{`The client sends its request and closes its sending direction at once (like shutdown(SHUT_WR)).
The server reads the request and the end of the stream and is in CLOSE-WAIT, yet it goes on
sending its answer in three parts; the client in FIN-WAIT-2 keeps receiving. Only when the
server closes is the connection over. Closing is per direction: that is why it takes four
segments.`,
		`客户端发出请求后立即关闭自己的发送方向，即半关闭（相当于 shutdown(SHUT_WR)）。服务器
读到请求，又读到数据流的结束（客户端的 FIN），进入 CLOSE-WAIT（关闭等待），却仍分
三部分发送它的应答；处于 FIN-WAIT-2（终止等待 2）的客户端继续接收。直到服务器也关闭，
连接才结束。关闭是按方向分别进行的：这就是挥手需要四个报文段的原因。`},

	// simultaneous-open
	{"Simultaneous open: two SYNs cross", "同时打开：两个 SYN 交错而过"},
	{`Both sides actively open to each other's port at the same moment. Each receives a SYN while
in SYN-SENT, moves to SYN-RECEIVED and answers with SYN-ACK; each SYN-ACK completes the other's
handshake (RFC 9293 Figure 7). Four segments, no listener, one connection.`,
		`双方在同一时刻主动连接对方的端口。每一方都在 SYN-SENT（同步已发送）状态收到对方的
SYN，转入 SYN-RECEIVED（同步已接收）并以 SYN-ACK 应答；每个 SYN-ACK 都完成了对方的
握手（RFC 9293 图 7）。一共四个报文段，双方都没有监听，却建立起一条连接。`},

	// simultaneous-close
	{"Simultaneous close: both FINs cross, through CLOSING", "同时关闭：两个 FIN 交错而过，经过 CLOSING"},
	{`Both sides close at the same moment. Each is in FIN-WAIT-1 when the other's FIN arrives,
so neither has had its own FIN acknowledged: both go to CLOSING, and then to TIME-WAIT when the
ACKs arrive. Both sides wait 2·MSL.`,
		`双方在同一时刻关闭。对方的 FIN 到达时，每一方都处于 FIN-WAIT-1（终止等待 1），自己的
FIN 都还没有被确认：于是双方都进入 CLOSING（同时关闭），收到 ACK 后再进入
TIME-WAIT（时间等待）。双方都要等待 2MSL。`},

	// refused
	{"Connection refused: a SYN to a closed port", "连接被拒绝：SYN 发往一个没有监听的端口"},
	{`Nothing listens on port 81. The server's TCP answers the SYN with RST (its ACK field
acknowledging the SYN, so the client can trust it), and the client's connect fails at once
with "connection refused", rather than retrying for two minutes.`,
		`81 端口上没有程序监听。服务器的 TCP 以 RST 回应这个 SYN（它的确认号确认了这个 SYN，
所以客户端可以相信它），客户端的 connect 立即以“connection refused”（连接被拒绝）失败，
而不是重试两分钟。`},

	// pmtu
	{"Path MTU discovery: a router's Fragmentation Needed", "路径 MTU 发现：路由器的“需要分片”报文"},
	{`Both hosts announced an MSS of 1460, but a router between them forwards at most 1280
bytes, so the server's first full-sized segments (1500 bytes with their headers) do not fit.
The router drops each one and tells the server why: an ICMP Destination Unreachable,
"fragmentation needed and DF set", that gives the next hop's MTU (RFC 1191). The server checks
that the segment it quotes is one it sent and that is not yet acknowledged (RFC 5927), lowers
its MSS to fit 1280 bytes, and at once sends the dropped data again, cut to the new size,
without waiting for a retransmission timeout. Every later segment fits.`,
		`双方在握手时通告的 MSS 都是 1460，但它们之间的一台路由器最多只能转发 1280 字节的
分组，所以服务器最先发出的几个满长度报文段（加上首部共 1500 字节）过不去。路由器把它们
一一丢弃，并告诉服务器原因：一个 ICMP 目的不可达报文，“需要分片但设置了 DF 位”，其中
给出下一跳的 MTU（RFC 1191）。服务器先核对报文里引用的那个报文段确实是自己发出、且尚未
被确认的（RFC 5927），然后把 MSS 降到能装进 1280 字节的大小，并立即按新的大小重新切分、
重传被丢弃的数据，不必等到重传超时。此后的每个报文段都能通过。`},

	// pmtu-blackhole
	{"A path MTU black hole: the ICMP never comes", "路径 MTU 黑洞：ICMP 报文始终没有到来"},
	{`As in pmtu, a router between the hosts forwards at most 1280 bytes, but here its
Fragmentation Needed messages are filtered out on the way back (a "black hole", RFC 2923), so
the server never learns why its full-sized segments vanish. It can only see them time out.
After the third timeout of a full-sized segment in a row, the server guesses that size is the
problem (RFC 4821 §7.7; Linux's tcp_mtu_probing=1): it falls back to an MSS of 1024 bytes,
re-cuts what is in flight, and the data gets through. It costs the three timeouts, with their
backoff, where pmtu lost one round trip. Then the server probes upward (RFC 4821 §7): one
segment halfway between 1024 and its first MSS of 1460, too big for the hop and lost, which
does not count as congestion; then one halfway between 1024 and 1241, which arrives, and the
MSS rises to its size.`,
		`和 pmtu 场景一样，两台主机之间的路由器最多只能转发 1280 字节的分组；不同的是，它发回的
“需要分片”报文在回程中被过滤掉了（即“黑洞”，RFC 2923），服务器永远不知道自己的满长度报文段
为什么消失，只能看到它们超时。满长度的报文段连续第三次超时之后，服务器推断问题出在报文段的
大小上（RFC 4821 §7.7；即 Linux 的 tcp_mtu_probing=1）：它把 MSS 退回到 1024 字节，重新切分
尚未确认的数据，数据于是得以通过。代价是三次超时以及随之而来的退避，而在 pmtu 场景中只多花了
一个往返时间。随后服务器向上探测（RFC 4821 §7）：先发一个大小介于 1024 与最初的 MSS 1460
正中间的报文段，它对这一跳来说太大而被丢弃，但这不算作拥塞；再发一个大小介于 1024 与 1241
正中间的报文段，它顺利到达，MSS 于是升到这个大小。`},

	// pmtu-shared
	{"The path MTU a black hole taught, shared with the next connection", "黑洞教会的路径 MTU，由下一条连接共享"},
	{`The path of pmtu-blackhole (a 1280-byte hop whose Fragmentation Needed messages are
filtered out), and two requests, one connection after the other. The first connection loses
its full-sized segments to three timeouts, falls back to an MSS of 1024 bytes and probes
upward, as in pmtu-blackhole. The server's stack keeps what its connection learnt for every
connection to that client (RFC 1191 §6.2, RFC 4821): the black hole lowers the path MTU it
holds for the client to 1064 bytes, and each probe that arrives raises it to the probe's
size. The second connection's SYN-ACK still offers the link's MSS of 1460 (RFC 1191 §6.4:
path MTU discovery "does not affect the value sent in the TCP MSS option"), but its first
data segments are already of the size the probes found: no timeout, no fallback. The cache
forgets after 10 minutes (RFC 1191 §6.3), when the link's MTU is tried again.`,
		`路径与 pmtu-blackhole 相同（一跳最多转发 1280 字节，它的“需要分片”报文被过滤掉），
客户端先后用两条连接发出两个请求。第一条连接和 pmtu-blackhole 中一样：满长度报文段连续三次
超时，MSS 退回到 1024 字节，然后向上探测。服务器的协议栈把这条连接学到的东西留给通往该客户端
的所有连接（RFC 1191 §6.2，RFC 4821）：黑洞把它为客户端记下的路径 MTU 降到 1064 字节，此后
每一个顺利到达的探测报文段又把它升到探测报文段的大小。第二条连接的 SYN-ACK 仍然通告链路的
MSS 1460（RFC 1191 §6.4：路径 MTU 发现“不影响 TCP MSS 选项中发送的值”），但它最初的数据
报文段已经是探测找到的大小：没有超时，也没有回退。这份缓存 10 分钟后过期（RFC 1191 §6.3），
届时再试链路的 MTU。`},
	{"the server's path MTU for %v: %d bytes, from %s at %v, kept until %v", "服务器为 %v 记下的路径 MTU：%d 字节，来自%s，时间 %v，保留到 %v"},
	{"the server keeps no path MTU below its link's %d bytes", "服务器没有记下低于其链路 %d 字节的路径 MTU"},
	{"its path MTU writes: %d from ICMP, %d from black holes, %d from probes", "路径 MTU 的写入：%d 次来自 ICMP，%d 次来自黑洞，%d 次来自探测"},
	{"the server's second connection: send MSS %d, %d retransmission timeouts", "服务器的第二条连接：发送 MSS 为 %d，重传超时 %d 次"},
	{"an ICMP message", "一个 ICMP 报文"},
	{"a black hole", "一次黑洞检测"},
	{"an acknowledged probe", "一个得到确认的探测报文段"},

	// slow-start
	{"Slow start: the congestion window doubles every round trip, until a loss sets ssthresh", "慢启动：拥塞窗口每个往返时间翻一番，直到一次丢包定下 ssthresh"},
	{`A new connection does not know the path, so it starts with a small congestion window
(cwnd): 10 segments (RFC 6928). In slow start every ACK of new data raises cwnd by one segment
(RFC 5681 §3.1); the client here acknowledges every segment (no delayed ACK), so each round
trip's flight is twice the last: 10, 20, 40 segments, a round trip apart. The slow-start
threshold (ssthresh) starts infinite. The 45th segment is lost: the SACK blocks and RACK show it
missing, the server retransmits it at once (fast recovery), and sets ssthresh to half the data
in flight (RFC 5681 equation (4), NewReno here; Linux's default CUBIC takes 0.7 of it). From then
on cwnd may grow only by about one segment per round trip (congestion avoidance). With delayed
ACKs (one ACK per two segments), RFC 5681's one segment per ACK would grow the flight by half
each round trip; synack counts up to two segments per ACK (RFC 3465), so it still doubles.`,
		`新建的连接不了解路径的情况，所以从一个较小的拥塞窗口（cwnd）开始：10 个报文段（RFC 6928）。
在慢启动阶段，每收到一个确认了新数据的 ACK，cwnd 就增加一个报文段（RFC 5681 §3.1）；这里
的客户端对每个报文段都立即确认（不使用延迟确认），所以每个往返时间发出的一批数据都是上一
批的两倍：10、20、40 个报文段，前后相隔一个往返时间。慢启动阈值（ssthresh）起初为无穷大。
第 45 个报文段丢失了：SACK 块和 RACK 表明它缺失，服务器立即重传它（快速恢复），并把
ssthresh 设为在途数据量的一半（RFC 5681 公式 (4)，这里用的是 NewReno；Linux 默认的 CUBIC
取 0.7）。此后 cwnd 每个往返时间只能增加大约一个报文段（拥塞避免）。如果使用延迟确认（每
两个报文段一个 ACK），按 RFC 5681 每个 ACK 只加一个报文段，每个往返时间只增长一半；synack
每个 ACK 最多计两个报文段（RFC 3465），所以仍然翻一番。`},

	// fast-recovery
	{"Fast retransmit and fast recovery: three duplicate ACKs instead of a timeout", "快速重传与快速恢复：用三个重复 ACK 代替超时"},
	{`The server's first flight is 10 segments; the 3rd and the 6th are lost. Each segment that
arrives after a hole makes the client repeat its last ACK (a duplicate ACK, RFC 5681 §4.2). SACK is off
here, so duplicates are all the server learns. At the third duplicate ACK it takes the segment
as lost rather than delayed by reordering and retransmits it at once (fast retransmit), long
before its retransmission timeout would fire; it halves its window (ssthresh = half the data in
flight) instead of falling back to slow start from one segment. The ACK for the retransmission
is partial: it stops at the second hole. NewReno (RFC 6582) takes a partial ACK for proof that
the next segment is lost too and retransmits it at once, staying in fast recovery, so both
holes are filled with no timeout. Recovery ends with the ACK of everything sent before it began.`,
		`服务器发出的第一批数据是 10 个报文段，其中第 3 个和第 6 个丢失。在缺口之后到达的每个报文
段都让客户端重复它上一个 ACK（重复 ACK，RFC 5681 §4.2）。这里关闭了 SACK，所以服务器能得
到的只有这些重复 ACK。收到第三个重复 ACK 时，服务器断定那个报文段已经丢失（而不是因乱序
而迟到），立即重传它（快速重传），远在重传超时之前；它把窗口减半（ssthresh = 在途数据量
的一半），而不是退回到从一个报文段开始的慢启动。对这次重传的确认是一个部分确认（partial
ACK）：确认号停在第二个缺口处。NewReno（RFC 6582）把部分确认当作下一个报文段也已丢失的证
据，立即重传它，并留在快速恢复阶段，于是两个缺口都在没有超时的情况下补上了。进入恢复之前
发出的数据全部得到确认时，快速恢复结束。`},

	// zero-window
	{"A zero window: the receiver is full, the sender probes until it opens", "零窗口：接收方已满，发送方不断探测，直到窗口重新打开"},
	{`The client's receive buffer holds only 4 segments (5792 bytes), and its application stops
reading for 3 s. The server's first 4 segments fill the buffer, and the client's ACK says
win=0: nothing more may be sent. The server does not give up, and it does not simply wait
either, since the ACK that will reopen the window carries no data and, if lost, would never be
retransmitted (a deadlock). It arms the persist timer and sends zero-window probes, each
an old sequence number that the receiver must answer with its current window (RFC 9293
§3.8.6.1), backing off like the retransmission timer. When the application reads again, the
client sends a window update (an ACK with the window open) and the transfer resumes at once.`,
		`客户端的接收缓冲区只能容纳 4 个报文段（5792 字节），而它的应用程序有 3 秒不读数据。服务
器的前 4 个报文段就把缓冲区填满了，客户端的 ACK 通告 win=0：不能再发送了。服务器既不放弃，
也不只是干等：将来重新打开窗口的那个 ACK 不携带数据，一旦丢失就永远不会被重传（形成死锁）。
所以它启动坚持定时器（persist timer），发送零窗口探测：每个探测用一个旧的序号，接收方必
须用自己当前的窗口来应答（RFC 9293 §3.8.6.1）；探测的间隔像重传定时器一样退避。应用程序
重新读数据时，客户端发出窗口更新（一个窗口已经打开的 ACK），传输立刻恢复。`},

	// keepalive
	{"Keepalive: an idle connection finds out that its peer is gone", "保活：空闲的连接发现对方已经不在了"},
	{`After the answer, the connection is idle: nothing is sent, and TCP by itself would never
notice if the other end vanished. The client has keepalive on (SO_KEEPALIVE; here 10 s idle,
probes every 5 s, 3 of them, where Linux's defaults are 2 hours, 75 s and 9). After 10 s of
silence it sends a keepalive probe: an ACK with the sequence number one below the next, which
the peer must answer with an ACK (RFC 9293 §3.8.4); the server answers, and the client knows the
connection is alive. At 15 s the server's host disappears (its packets, and those to it, are
lost from then on). 10 s after the last answer the client probes again, then every 5 s; after
3 unanswered probes it declares the peer dead and closes the connection with "connection timed
out". Keepalives are optional and off by default: RFC 1122 §4.2.3.6 says they must not be sent
more often than every 2 hours by default.`,
		`应答之后连接进入空闲：没有任何数据发送，单靠 TCP 本身永远不会察觉另一端已经消失。客户端
开启了保活（SO_KEEPALIVE；这里空闲 10 秒后开始探测，每 5 秒一次，共 3 次；Linux 的默认值
是 2 小时、75 秒和 9 次）。静默 10 秒之后，它发出一个保活探测：一个序号比下一个序号小 1
的 ACK，对方必须用 ACK 应答（RFC 9293 §3.8.4）；服务器应答了，客户端于是知道连接还活着。
第 15 秒时，服务器所在的主机消失了（从此它发出的和发给它的分组都会丢失）。距最后一次应答
10 秒后，客户端再次探测，之后每 5 秒一次；3 个探测都没有应答，它就判定对方已经失效，以“连
接超时”关闭连接。保活是可选的，默认关闭：RFC 1122 §4.2.3.6 规定，保活的间隔默认不得少于
2 小时。`},

	// nagle-delayed-ack
	{"Nagle's algorithm meets delayed ACK: a 200 ms stall, and TCP_NODELAY", "Nagle 算法遇上延迟确认：200 毫秒的停顿，以及 TCP_NODELAY"},
	{`The client writes its request in two parts, the header and then the body. Nagle's
algorithm (RFC 896, RFC 9293 §3.7.4) sends the header at once but holds the small body back
while the header is unacknowledged, to save the network from many tiny segments. The server
delays its ACK (RFC 9293 §3.8.6.3), hoping to send it with its answer, here for up to 200 ms
(Windows and classic BSD; Linux waits 40 ms at least). But the server cannot answer before it
has the body, and the client will not send the body before the ACK: each waits for the other
until the delayed-ACK timer fires. The ladder shows that first connection: the body leaves
only when the lone ACK arrives. The client then makes the same request again on a second
connection with TCP_NODELAY (Nagle off): header and body leave together, and the answer comes
one round trip after the request. (Writing the request with one write fixes it too.)`,
		`客户端分两次写出它的请求：先写首部，再写正文。Nagle 算法（RFC 896，RFC 9293 §3.7.4）立即
发出首部，但在首部得到确认之前扣住很小的正文不发，以免网络被大量小报文段占满。服务器使用
延迟确认（RFC 9293 §3.8.6.3），希望把 ACK 捎带在应答里一起发出，这里最多等 200 毫秒（Windows
和传统 BSD 的做法；Linux 至少等 40 毫秒）。可是服务器在收到正文之前无法应答，客户端在收
到 ACK 之前又不发正文：双方互相等待，直到延迟确认定时器到期。梯形图显示的是第一条连接：
正文直到那个单独的 ACK 到达后才发出。随后客户端在第二条连接上设置 TCP_NODELAY（关闭
Nagle 算法）发出同样的请求：首部和正文一起发出，应答在请求发出一个往返时间之后就到了。（
用一次写操作写出整个请求也能解决问题。）`},

	// syn-flood
	{"A SYN flood: spoofed SYNs fill the SYN queue, SYN cookies let a real client in", "SYN 洪泛：伪造的 SYN 占满 SYN 队列，SYN cookie 让真正的客户端进来"},
	{`An attacker sends 64 SYNs in 64 ms, each from a forged source address where no host
answers. For every SYN the server's listener keeps a half-open connection in SYN-RECEIVED and
sends a SYN-ACK that nobody will acknowledge; its SYN queue (16 here; Linux's
tcp_max_syn_backlog) is full after 16 of them, and each entry stays for about a minute while its
SYN-ACK is retransmitted 5 times (RFC 4987 §2); while the queue is more than half full, those
whose SYN-ACK went unanswered longest are given up after 2 retransmissions, not 5, as Linux
prunes its queue (8 of the 16 here). Without defence every further SYN, the real client's too,
would be dropped. With SYN cookies (RFC 4987 §3.6, on by default when the queue is
full, as in Linux) the server keeps no state for the SYNs it cannot queue: it answers each with a
SYN-ACK whose initial sequence number is a keyed MAC of the connection's addresses, ports, the
time and the client's MSS (the cookie). Only a client that received it can return it in the
third ACK of the three-way handshake (ack = cookie + 1); the server checks the MAC and only then
creates the connection. The ladder shows the real client's handshake through the flood: the
server stays in LISTEN when its SYN arrives, and goes through SYN-RECEIVED to ESTABLISHED only
when the ACK brings the cookie back. The spoofed SYNs come from other addresses; they are
counted below.`,
		`攻击者在 64 毫秒内发出 64 个 SYN，每个都来自一个伪造的、没有主机应答的源地址。对每个 SYN，
服务器的监听端都保存一个处于 SYN-RECEIVED（同步已接收）状态的半连接，并发出一个没有人会
确认的 SYN-ACK；它的 SYN 队列（这里是 16；即 Linux 的 tcp_max_syn_backlog）收到 16 个之
后就满了，而每个表项要等它的 SYN-ACK 重传 5 次、大约一分钟之后才被释放（RFC 4987 §2）；
队列超过一半满时，SYN-ACK 最久没有得到应答的那些表项在重传 2 次（而不是 5 次）之后
就被提前放弃，和 Linux 修剪队列的做法一样（这里 16 个中有 8 个）。如果没有防御，此后的
每个 SYN，包括真正的客户端的 SYN，都会被丢弃。有了 SYN cookie
（RFC 4987 §3.6；和 Linux 一样，默认在队列满时启用），服务器对无法入队的 SYN 不保存任何
状态：它对每个这样的 SYN 都回一个 SYN-ACK，其初始序号是用密钥对连接的地址、端口、时间和
客户端的 MSS 算出的 MAC，即 cookie。只有真正收到这个 SYN-ACK 的客户端，才能在三次握手的
第三个报文段 ACK 中把 cookie 带回来（确认号 = cookie + 1）；服务器校验 MAC 无误后才创建
连接。梯形图显示的是真正的客户端在洪泛中完成的握手：它的 SYN 到达时，服务器仍停留在
LISTEN（监听）状态，直到 ACK 带回 cookie，才经过 SYN-RECEIVED 进入 ESTABLISHED。伪造的
SYN 来自其他地址，不画在梯形图上，数目统计在下面。`},

	// time-wait-ports
	{"TIME-WAIT piles up on the side that closes first, until the ports run out", "TIME-WAIT 堆积在先关闭的一方，直到端口耗尽"},
	{`An HTTP/1.0-style client makes one connection per request and closes each first, so
each of its connections ends in TIME-WAIT for 2·MSL (MSL is 5 s here, so 10 s; Linux holds
TIME-WAIT 60 s). It keeps the connection's address and port pair: no new connection may use the
same four numbers while old duplicates could still arrive (RFC 9293 §3.4.2). The client here
has only 3 ephemeral ports (a busy client or proxy meets the same limit with its 28232), and
the server a single address and port. After 3 requests all 3 ports are in TIME-WAIT, and the
4th connect fails at once ("cannot assign requested address"): the application retries every
500 ms and succeeds only when the first TIME-WAIT ends, 10 s after that connection closed. The
ladder shows the first connection's port pair: its TIME-WAIT, then the 4th connection on the
same four numbers, with an ISN 2.6 million higher (the ISN clock ticks every 4 µs, RFC 9293
§3.4.1). The cure is not to skip TIME-WAIT but to reuse connections (keep-alive), or to let the
server close first: then TIME-WAIT is kept by the server, which may reopen it for a new SYN
that is clearly newer (RFC 6191, as Linux does).`,
		`一个 HTTP/1.0 风格的客户端每个请求建立一条连接，并且每次都由它先关闭，所以它的每条连接都
以 TIME-WAIT（时间等待）状态结束，持续 2MSL（这里 MSL 为 5 秒，即 10 秒；Linux 的
TIME-WAIT 持续 60 秒）。在此期间它占着这条连接的地址和端口：只要旧的重复报文段还可能到达，
新连接就不能使用同样的四元组（RFC 9293 §3.4.2）。这里的客户端只有 3 个临时端口（繁忙的客
户端或代理用它的 28232 个端口也会碰到同样的限制），服务器只有一个地址和端口。3 个请求之
后，3 个端口全都处于 TIME-WAIT，第 4 次 connect 立即失败（“无法分配请求的地址”）：应用程
序每 500 毫秒重试一次，直到第一个 TIME-WAIT 结束、即那条连接关闭 10 秒之后才成功。梯形图
显示的是第一条连接的端口对：先是它的 TIME-WAIT，然后是使用同一个四元组的第 4 条连接，其
初始序号大了 260 万（ISN 时钟每 4 微秒走一格，RFC 9293 §3.4.1）。解决的办法不是跳过
TIME-WAIT，而是复用连接（keep-alive），或者让服务器先关闭：这样 TIME-WAIT 留在服务器一方，
而对一个明显更新的 SYN，服务器可以把处于 TIME-WAIT 的连接重新打开（RFC 6191，Linux 也是
这样做的）。`},

	// abort
	{"Abort: RST in the middle of a transfer", "异常终止：传输途中的 RST"},
	{`The client queues 30 kB and, 150 ms later, with part of it still unsent, aborts (like
close() with SO_LINGER 0). It sends RST and forgets the connection at once: no FIN, no
TIME-WAIT, and the unsent data is thrown away. The server's TCP accepts the RST because its
sequence number is exactly the next one expected, and its reader gets "connection reset by
peer". That is what an abort means: the end of the connection, not of the data.`,
		`客户端交给 TCP 30 kB 数据，150 毫秒后，在一部分数据还没有发出时异常终止连接（相当于
SO_LINGER 设为 0 时的 close()）。它发出 RST，并立即忘掉这条连接：没有 FIN，没有
TIME-WAIT（时间等待），未发出的数据被丢弃。服务器的 TCP 接受这个 RST，因为它的序号恰好
是期望的下一个序号；服务器读数据时得到“connection reset by peer”（连接被对方重置）。
这就是异常终止的含义：它结束的是连接本身，而不是正常地结束数据的发送。`},

	// http (package httpcost, listed by the command line)
	{"HTTP/1.0, keep-alive and HTTP/2: what the handshake costs", "HTTP/1.0、keep-alive 与 HTTP/2：握手的代价"},
	{`The same requests three ways. HTTP/1.0 opens a connection per request, so each request
waits a round trip for the three-way handshake before it can be sent, and another for its
answer. HTTP/1.1 keep-alive pays the handshake once, then a round trip per request. HTTP/2
sends every request at once as streams on one connection: two round trips in all. Time runs
from the first SYN to the last response byte; the closes come after. The bytes exchanged are
those net/http and x/net/http2 produce (the tests check that real net/http over synack opens
as many connections and takes as long).`,
		`同样的请求，三种方式。HTTP/1.0 每个请求打开一条连接，所以每个请求都要先等三次握手的
一个往返时间才能发出，再等一个往返才能收到应答。HTTP/1.1 的 keep-alive 只付出一次握手的
代价，之后每个请求一个往返。HTTP/2 把所有请求作为同一条连接上的多个流一次发出：总共两个
往返。时间从第一个 SYN 算到最后一个响应字节；连接的关闭在这之后。交换的字节就是 net/http
和 x/net/http2 实际产生的字节（测试检查了真实的 net/http 在 synack 上运行时打开同样多的
连接，用时也一样长）。`},
	{"%d requests in each mode, %d-byte responses; link: %v each way (RTT %v)",
		"每种方式 %d 个请求，每个响应 %d 字节；链路：单向 %v（RTT %v）"},
	{"%s, connection %d of %d", "%s，第 %d 条连接，共 %d 条"},

	// Notes on an impaired run (package sim): where it left the story its
	// explanation tells.
	{"#%d %s from the %s", "%[3]s发出的 #%[1]d %[2]s"},
	{", ", "、"},
	{", ...", "……"},
	{"1 packet", "1 个数据包"},
	{"%d packets", "%d 个数据包"},
	{"1 segment", "1 个报文段"},
	{"%d segments", "%d 个报文段"},
	{"the link also lost %s (%s)", "链路还丢失了 %s（%s）"},
	{"the bottleneck's full queue dropped %s (%s)", "瓶颈处排满的队列丢弃了 %s（%s）"},
	{"the link duplicated %s (%s)", "链路复制了 %s（%s）"},
	{"the link corrupted %s (%s)", "链路损坏了 %s（%s）"},
	{"the link held back, so that later ones overtook them, %s (%s)", "链路扣留了 %s，使后发的数据包超到了它们前面（%s）"},
	{"the %s retransmitted %s and the %s %d, where the run without impairments retransmits %d and %d",
		"%s重传了 %s，%s重传了 %d 个，而没有链路损伤的运行中二者分别重传 %d 个和 %d 个"},
	{"%s, where the run without impairments retransmits %s", "%s，而没有链路损伤的运行中重传 %s"},
	{"the link lost the delayed SYN (%s) as well, so it never reached the server: the rest of the story (the server's SYN-ACK, the client's RST) did not happen",
		"链路把那个迟到的 SYN（%s）也丢失了，它始终没有到达服务器：后面的过程（服务器的 SYN-ACK、客户端的 RST）都没有发生"},
	{"the link corrupted the delayed SYN (%s), so the server's TCP discarded it: the rest of the story (the server's SYN-ACK, the client's RST) did not happen",
		"链路损坏了那个迟到的 SYN（%s），服务器的 TCP 丢弃了它：后面的过程（服务器的 SYN-ACK、客户端的 RST）都没有发生"},
	{"the client sent no RST (no SYN-ACK of the old SYN reached it): the server dropped the half-open connection when its retransmissions of the SYN-ACK ran out",
		"客户端没有发出 RST（回应旧 SYN 的 SYN-ACK 一个也没有到达它）：服务器在 SYN-ACK 的重传次数用完后丢弃了这条半开连接"},
	{"the link did not lose the client's final ACK: the scenario's rule, which drops the client's second ACK without data, dropped %s instead, so the server had no FIN to retransmit",
		"链路没有丢失客户端最后的 ACK：场景规则要丢弃的是客户端第二个不带数据的 ACK，这次丢弃的却是 %s，所以服务器没有需要重传的 FIN"},
	{"an ACK", "一个 ACK"},
	{"the server did not retransmit its FIN: the client acknowledged it again (%s), answering a late or duplicate segment, before the server's retransmission timer fired",
		"服务器没有重传它的 FIN：在服务器的重传定时器到期之前，客户端在回应一个迟到或重复的报文段时已经再次确认了这个 FIN（%s）"},
	{"the SYNs did not cross (a SYN was lost or late): the %s's SYN was answered before the other's reached it, so it went from SYN-SENT straight to ESTABLISHED",
		"两个 SYN 没有交错（有一个 SYN 丢失或迟到）：%s的 SYN 在对方的 SYN 到达之前就得到了应答，所以它从 SYN-SENT 直接进入 ESTABLISHED"},
	{"the FINs did not cross: the %s had the other's FIN before it closed, and went through CLOSE-WAIT, not CLOSING",
		"两个 FIN 没有交错：%s在自己关闭之前就收到了对方的 FIN，因此经过的是 CLOSE-WAIT，而不是 CLOSING"},
	{"the FINs did not cross (a FIN was lost or late): the %s's FIN was acknowledged before the other's arrived, so it went through FIN-WAIT-2, not CLOSING",
		"两个 FIN 没有交错（有一个 FIN 丢失或迟到）：%s的 FIN 在对方的 FIN 到达之前就被确认了，因此经过的是 FIN-WAIT-2，而不是 CLOSING"},
	{"the client's RST reached the server before the server's program accepted the connection, so the connection ended in the accept queue and the server's accept never returned it",
		"客户端的 RST 在服务器程序接受（accept）这条连接之前就到达了服务器，所以连接在等待接受的队列里就结束了，服务器的 accept 始终没有返回它"},
	{"the link lost or corrupted %s: an RST is neither acknowledged nor retransmitted, so the server's connection stays open, and the server learns of the abort only when it next sends",
		"链路丢失或损坏了 %s：RST 既不被确认也不会被重传，所以服务器的连接仍然打开，服务器要到下次发送时才会得知连接已被异常终止"},

	// The ladder (package trace/ladder): legend, header, numbering, notes.
	{"legend: #n packet number  %[1]s%[1]s%[2]s sent  %[1]s%[1]s%[3]s arrives  %[4]s lost or dropped  " +
		"%[5]s%[5]s RST  %[6]s%[6]s%[3]s send not recorded\n" +
		"        %[7]s about the row above  a state is shown on the row where it changes\n",
		"图例：#n 报文段编号  %[1]s%[1]s%[2]s 发出  %[1]s%[1]s%[3]s 到达  %[4]s 丢失或被丢弃  " +
			"%[5]s%[5]s RST（复位）  %[6]s%[6]s%[3]s 发送未被记录\n" +
			"      %[7]s 说明上一行  状态写在它发生变化的那一行\n"},
	{"time", "时间"},
	{"client", "客户端"},
	{"server", "服务器"},
	{"attacker", "攻击者"},
	{"note: ", "注："},
	{"no link events: an arrival is shown only where the receiver recorded it",
		"没有链路事件：只有接收方记录了的到达才会画出"},
	{"%s not seen, counted from its first seq %s", "%s未见到 SYN，从它的第一个 seq %s 算起"},
	{"%s unknown", "%s未知"},
	{"ISNs: %s, %s", "初始序号 ISN：%s，%s"},
	{"absolute sequence numbers (no SYN seen, ISNs unknown)", "绝对序号（未见到 SYN，初始序号 ISN 未知）"},
	{"absolute sequence numbers (%s)", "绝对序号（%s）"},
	{"seq and ack relative to each side's ISN (%s)", "seq（序号）与 ack（确认号）为相对值，从双方各自的初始序号算起（%s）"},
	{"; [abs]: absolute, ISN not yet seen", "；[abs]：绝对序号，尚未见到初始序号"},
	{" (copy of #%d)", "（#%d 的副本）"},
	{"%s arrives", "%s 到达"},
	{"%s arrives (was held back)", "%s 到达（曾被链路扣留）"},
	{"lost", "丢失"},
	{"lost: %s", "丢失：%s"},
	{"ICMP message", "ICMP 报文"},
	{"from a router on the path", "来自路径上的路由器"},
	{"quotes #%d (seq=%s)", "引用 #%d（seq=%s）"},
	{"quotes the segment with seq=%s", "引用 seq=%s 的报文段"},
	{"quotes the segment with seq=%s, not in the capture", "引用 seq=%s 的报文段（不在抓包中）"},
	{"too big: %d bytes, MTU %d", "分组过大：%d 字节，而 MTU 为 %d"},
	{"too big: %d bytes, MTU %d, no ICMP (a black hole)", "分组过大：%d 字节，而 MTU 为 %d；没有 ICMP 报文（黑洞）"},
	{"the link dropped it: %s", "链路丢弃了它：%s"},
	{"retransmission", "重传"},
	{"retransmission of #%d", "#%d 的重传"},
	{"%s (%s)", "%s（%s）"},
	{"RTO", "RTO 超时"},
	// A scenario's rule, in words (its compact form, "drop 2nd A !S !F !R
	// !P nodata", stays in the events and the link's counters).
	{"lost, as the scenario asks", "按场景设定被链路丢弃"},
	{"the link drops %s, as the scenario asks", "按场景设定，链路丢弃了%s"},
	{"this RST", "这个 RST"},
	{"this SYN-ACK", "这个 SYN-ACK"},
	{"this SYN", "这个 SYN"},
	{"this FIN", "这个 FIN"},
	{"this data segment", "这个数据报文段"},
	{"this ACK", "这个 ACK"},
	{"this segment", "这个报文段"},
	{"for %s, as the scenario asks, until %s", "按场景设定，时长 %s，直到 %s"},
	{"until the scenario releases it", "直到场景将它放行"},
	{"as the scenario asks", "按场景设定"},
	{"reordering, until %s", "造成乱序，直到 %s"},
	{"TLP", "尾部丢失探测 TLP"},
	{"held back by the link", "被链路扣留"},
	{"duplicated by the link: the copy is #%d", "被链路复制：副本是 #%d"},
	{"corrupted by the link (bits flipped)", "被链路损坏（有比特翻转）"},
	{"the link duplicates #%d: the copy is #%d", "链路复制了 #%d：副本是 #%d"},
	{"the link corrupts #%d (bits flipped)", "链路损坏了 #%d（有比特翻转）"},
	{"%s drops it: %s", "%s丢弃了它：%s"},
	{"RST: reset", "RST：复位"},
	{"drops a packet: %s", "丢弃一个报文段：%s"},
	{"drops %s: %s", "丢弃 %s：%s"},
	{"dropped: %s", "已丢弃：%s"},
	{"no reason given", "未说明原因"},
	// Timers: package tcp's name and " timer" is the key of the timer's
	// Chinese name, which the formats put in place of "%s timer".
	{"%s timer set, fires at %v", "%s启动，%v 到期"},
	{"%s timer fired", "%s到期"},
	{"%s timer stopped", "%s停止"},
	{"a timer", "某个定时器"},
	{"time-wait timer", "TIME-WAIT 定时器"},
	{"retransmit timer", "重传定时器"},
	{"delayed-ack timer", "延迟确认定时器"},
	{"persist timer", "持续定时器"},
	{"keepalive timer", "保活定时器"},
	{"reorder timer", "乱序等待定时器"},
	{"tlp timer", "尾部丢失探测定时器"},

	// The HTML stepper (trace/ladder's WriteHTML and its script).
	{"start (Home)", "开头（Home）"},
	{"⇤ start", "⇤ 开头"},
	{"back one row (←)", "后退一行（←）"},
	{"◀ back", "◀ 后退"},
	{"play or pause (space)", "播放或暂停（空格）"},
	{"▶ play", "▶ 播放"},
	{"❚❚ pause", "❚❚ 暂停"},
	{"forward one row (→)", "前进一行（→）"},
	{"forward ▶", "前进 ▶"},
	{"end (End)", "结尾（End）"},
	{"end ⇥", "结尾 ⇥"},
	{"TCP connection states, after RFC 9293 Figure 5. Lit: the state now; tinted: states passed through.",
		"TCP 连接状态，依照 RFC 9293 图 5。高亮：当前状态；浅色：已经过的状态。"},
	{"in an unknown state", "状态未知"},
	{"Before the first packet: %s is %s, %s is %s. Press → or play.",
		"第一个报文段之前：%s处于 %s，%s处于 %s。按 → 或“播放”开始。"},
	{"row %d of %d", "第 %d 行，共 %d 行"},
	{"%s sends %s", "%s发出 %s"},
	{" (a reset)", "（复位）"},
	{"#%d %s arrives at %s", "#%d %s 到达%s"},
	{"%s arrives at %s (its sending was not recorded)", "%s 到达%s（它的发送没有被记录）"},
	{" (it was held back)", "（它曾被链路扣留）"},
	{"#%d %s is %s", "#%d %s %s"},
	{": ", "："},
	{"; ", "；"},
	{"%s: %s → %s", "%s：%s → %s"},
	{"click a point to select its packet on the ladder", "点击图中的点，在梯形图上选中它的报文段"},

	// The SVG picture (trace/ladder's WriteSVG).
	{"sent by %s", "%s发出"},
	{"%s later", "%s 后"},
	{"copy made by the link", "链路产生的副本"},
	{"#%d copy of #%d", "#%d 是 #%d 的副本"},
	{"ICMP message (◇: from a router)", "ICMP 报文（◇：来自路由器）"},
	{"lost on the way; #n numbers packets in sending order; a state is shown where it changes",
		"途中丢失；#n 按发送顺序给报文段编号；状态写在它发生变化的地方"},

	// The plots (package trace/plot): titles, legends, axis labels, notes
	// and the points' tooltips. The abbreviations of the legends (cwnd,
	// ssthresh, SRTT, RTO) get their Chinese words in trace/plot's terms.
	{"data sent by %s to %s", "所画数据：%s → %s"},
	{"time (s)", "时间（秒）"},
	{"#%d at %s s", "#%d（%s 秒）"},
	{"data segment", "数据报文段"},
	{"lost (bar in red)", "丢失（红色竖条）"},
	{"SYN or FIN", "SYN 或 FIN"},
	{"ACK", "确认号 ack"},
	{"receive window (ACK + window)", "接收窗口右沿（确认号 + 窗口）"},
	{"SACK block", "SACK 块"},
	{"Time–sequence graph of %s's data (sequence numbers relative to its ISN, bytes)",
		"%s所发数据的时间–序号图（序号从它的初始序号 ISN 算起，单位：字节）"},
	{"the receive-window line runs above the top, up to %s", "接收窗口线超出了图的上沿，最高到 %s"},
	{"no segments in this direction", "这个方向上没有报文段"},
	{"%s: ACK %d, window to %d", "%s：确认号 %d，窗口右沿 %d"},
	{", SACK %d–%d", "，SACK %d–%d"},
	{"%s: seq %d–%d (%d bytes)", "%s：序号 %d–%d（%d 字节）"},
	{"Congestion window, slow-start threshold and bytes in flight of %s (bytes)",
		"%s的拥塞窗口 cwnd、慢启动阈值 ssthresh 与在途字节（单位：字节）"},
	{"Bytes in flight of %s, inferred from the segments: a capture holds no cwnd or ssthresh (bytes)",
		"%s的在途字节，由报文段推断：抓包里没有 cwnd 和 ssthresh（单位：字节）"},
	{"ssthresh (infinite until the first loss)", "慢启动阈值 ssthresh（第一次丢包之前为无穷大）"},
	{"in flight: highest sent − highest acknowledged", "在途字节：已发送的最高序号 − 已确认的最高序号"},
	{"no data in flight", "没有在途数据"},
	{"%s: in flight %d bytes", "%s：在途数据 %d 字节"},
	{"%s: ssthresh %d bytes", "%s：慢启动阈值 ssthresh %d 字节"},
	{"%s: cwnd %d bytes", "%s：拥塞窗口 cwnd %d 字节"},
	{"RTT sample: a segment to the first ACK covering it (none for retransmitted data)",
		"RTT 样本：从发出报文段到收到第一个覆盖它的 ACK（重传过的数据不取样）"},
	{"Round-trip times seen by %s, inferred from the segments (%s)", "%s测得的往返时间 RTT，由报文段推断（单位：%s）"},
	{"Round-trip times seen by %s, with its SRTT and RTO (%s)",
		"%s测得的往返时间 RTT，以及它的平滑往返时间 SRTT 和重传超时 RTO（单位：%s）"},
	{"no RTT samples", "没有 RTT 样本"},
	{"%s: RTO %s", "%s：重传超时 RTO %s"},
	{"%s: SRTT %s", "%s：平滑往返时间 SRTT %s"},
	{"%s: RTT sample %s", "%s：RTT 样本 %s"},
	{"Goodput: %s's data that %s acknowledged, per %s (bit/s)",
		"有效吞吐量：%[1]s的数据被%[2]s确认的速率，每 %[3]s 统计一次（单位：bit/s）"},
	{"goodput of the interval", "该时段的有效吞吐量"},
	{"mean: %s bytes in %s, %s", "平均：%[2]s 内 %[1]s 字节，%[3]s"},
	{"no data acknowledged", "没有数据得到确认"},
	{"%s–%s s: %d bytes acknowledged, %s (last ACK #%d)", "%s–%s 秒：确认了 %d 字节，%s（最后一个 ACK 是 #%d）"},
	{"the time axis is broken where nothing was sent for %s, more than half of the connection's time",
		"时间轴有一处断开，那里有 %s 没有发送任何报文段，超过了连接总时长的一半"},
	{"1 copy the link made of %s's segments is not drawn (%[1]s did not send them)",
		"链路复制出的 1 个%[1]s报文段副本没有画出（它不是%[1]s发出的）"},
	{"%d copies the link made of %s's segments are not drawn (%[2]s did not send them)",
		"链路复制出的 %[1]d 个%[2]s报文段副本没有画出（它们不是%[2]s发出的）"},
	{"1 segment of %s's was discarded by %s on arrival and is not drawn as an ACK",
		"%[1]s的 1 个报文段在到达时被%[2]s丢弃，没有作为 ACK 画出"},
	{"%d segments of %s's were discarded by %s on arrival and are not drawn as ACKs",
		"%[2]s的 %[1]d 个报文段在到达时被%[3]s丢弃，没有作为 ACK 画出"},
	{"the window scale is not known (the capture missed the SYNs): the receive-window line uses the window field unscaled",
		"窗口扩大因子未知（抓包没有捕获到 SYN）：接收窗口线直接使用未经缩放的窗口字段"},
	{"%s sent no data", "%s没有发送数据"},
	{"from a capture: the sender's cwnd, ssthresh, SRTT and RTO are not on the wire; bytes in flight and RTT samples are inferred from the segments, as the capture point saw them; a capture cannot tell which segments were lost, only which were sent again (Wireshark's marks)",
		"来自抓包：发送方的 cwnd、ssthresh、SRTT 和 RTO 不会出现在线路上；在途字节和 RTT 样本由报文段推断，反映的是抓包点看到的情况；抓包无法判断哪些报文段丢失了，只能看出哪些被重传了（即 Wireshark 的标记）"},
	{"no Metrics events of %s: no cwnd, ssthresh, SRTT or RTO to draw", "没有%s的 Metrics 事件：画不出 cwnd、ssthresh、SRTT 和 RTO"},
	{"discarded on arrival: %s", "到达时被接收方丢弃（%s）"},
	{"%s: the plot of the data sent by %s (%s)", "%s：%s所发数据的图（%s）"},
	{"soak case %s, seed %d: %s over %s, %d bytes", "soak 用例 %s，种子 %d：%s；链路 %s，%d 字节"},

	// soak's cases (package sim's SoakCase.About), in soak --seed's header
	// and its plot's title.
	{"a clean 10 ms path",
		"一条干净的 10 ms 路径"},
	{"1% loss each way",
		"每个方向 1% 丢包"},
	{"5% loss each way",
		"每个方向 5% 丢包"},
	{"10% loss each way",
		"每个方向 10% 丢包"},
	{"5% loss; the size is a whole number of full segments, so the FIN rides on a full one",
		"5% 丢包；数据量恰好是满长报文段的整数倍，所以 FIN 搭载在一个满长报文段上"},
	{"30% loss each way: the handshake and close survive too",
		"每个方向 30% 丢包：握手和关闭也能挺过去"},
	{"20% loss of the ACK path only",
		"只在 ACK 方向上 20% 丢包"},
	{"20% of packets held back by 10 ms, under 5 ms of jitter",
		"20% 的分组被推迟 10 ms，另有 5 ms 以内的抖动"},
	{"5% of packets held back by 25 ms (more than the RTT)",
		"5% 的分组被推迟 25 ms（比 RTT 还长）"},
	{"10% of packets delivered twice",
		"10% 的分组被投递两次"},
	{"5% of packets with a flipped bit (dropped by the checksum)",
		"5% 的分组有一个比特翻转（被校验和检查丢弃）"},
	{"10 ms plus up to 30 ms of jitter (no reordering)",
		"10 ms 时延，外加最多 30 ms 的抖动（不乱序）"},
	{"2 Mbit/s with a 5-packet queue: tail drops",
		"2 Mbit/s 带宽，队列只能容纳 5 个分组：队尾丢弃"},
	{"loss, duplication, reordering, corruption and jitter at once",
		"丢包、重复、乱序、损坏和抖动同时出现"},
	{"2 KB receive and send buffers (no autotuning), 2% loss",
		"2 KB 的接收和发送缓冲区（不自动调节），2% 丢包"},
	{"16 MiB buffers over a 100 ms, 100 Mbit/s long fat path, 0.01% loss",
		"16 MiB 缓冲区，100 ms、100 Mbit/s 的长肥管道，0.01% 丢包"},
	{"SACK off at both ends (NewReno recovery), 3% loss and reordering",
		"两端都关闭 SACK（用 NewReno 恢复），3% 丢包并有乱序"},
	{"timestamps off at both ends, 3% loss",
		"两端都关闭时间戳，3% 丢包"},
	{"window scaling off at both ends, 3% loss",
		"两端都关闭窗口扩大选项，3% 丢包"},
	{"no SACK, timestamps or window scaling, no delayed ACK, no Nagle, 3% loss",
		"不用 SACK、时间戳和窗口扩大，不延迟确认，不用 Nagle 算法，3% 丢包"},
	{"NewReno congestion control, 2% loss, 10 Mbit/s with a 20-packet queue",
		"NewReno 拥塞控制，2% 丢包，10 Mbit/s 带宽，队列可容纳 20 个分组"},
	{"CUBIC congestion control, 2% loss, 10 Mbit/s with a 20-packet queue",
		"CUBIC 拥塞控制，2% 丢包，10 Mbit/s 带宽，队列可容纳 20 个分组"},
	{"IPv6 at both ends, 2% loss and reordering",
		"两端都用 IPv6，2% 丢包并有乱序"},
	{"IPv6, with loss, duplication, reordering, corruption and jitter at once",
		"IPv6，丢包、重复、乱序、损坏和抖动同时出现"},
	{"the data path's MTU drops from 1500 to 1280 mid-transfer (ICMP Fragmentation Needed), 1% loss",
		"传输途中数据路径的 MTU 从 1500 降到 1280（ICMP“需要分片”），1% 丢包"},
	{"IPv6; the data path's MTU drops from 1500 to 1280 mid-transfer (ICMPv6 Packet Too Big), 1% loss",
		"IPv6；传输途中数据路径的 MTU 从 1500 降到 1280（ICMPv6“分组过大”），1% 丢包"},
	{"a 1400-byte hop that drops bigger packets without an ICMP error (a black hole), 1% loss: the fallback to 1024-byte segments, then probing up",
		"一跳 MTU 为 1400 字节，更大的分组被丢弃且没有 ICMP 差错报文（黑洞），1% 丢包：先退回到 1024 字节的报文段，再逐步向上探测"},
	{"CUBIC, 50 Mbit/s and 20 ms with a 20-packet queue (a quarter of the path's BDP): slow start's bursts overflow it",
		"CUBIC，50 Mbit/s、20 ms，队列可容纳 20 个分组（路径带宽时延积 BDP 的四分之一）：慢启动的突发会把它灌满溢出"},
	{"bdp-20 with pacing at both ends (tcp.Config.Pacing)",
		"bdp-20，两端都启用发送节奏控制（pacing，tcp.Config.Pacing）"},
	{"bdp-20 with up to 1 ms of jitter, which spreads the bursts before the queue",
		"bdp-20，外加最多 1 ms 的抖动，在突发到达队列之前把它们打散"},
	{"storm, with 200 UDP datagrams beside the transfer: none delivered corrupted",
		"storm 的链路，传输之外另发 200 个 UDP 数据报：没有一个在损坏后被送达"},
	{"IPv6 storm, with 200 UDP datagrams beside the transfer: none delivered corrupted",
		"IPv6 的 storm 链路，传输之外另发 200 个 UDP 数据报：没有一个在损坏后被送达"},
	{"10% corruption, 10% duplication and 20% reordering, with 200 UDP datagrams beside the transfer",
		"10% 损坏、10% 重复、20% 乱序，传输之外另发 200 个 UDP 数据报"},
	{"%s: %s over %s, %d bytes", "%s：%s；链路 %s，%d 字节"},

	// The browser view (package web): the page's own words.
	{"a TCP you can watch", "看得见的 TCP"},
	{"scenario", "场景"},
	{"seed", "种子"},
	{"latency", "单向时延"},
	{"jitter", "抖动"},
	{"loss", "丢包"},
	{"duplicate", "重复"},
	{"reorder", "乱序"},
	{"corrupt", "损坏"},
	{"Run", "运行"},
	{"language", "语言"},
	{"With these impairments this run differs from the explanation above, which describes the run without them:",
		"在这些链路损伤下，这次运行与上面的解释不同（上面描述的是没有损伤的运行）："},
	{"This page needs JavaScript to run scenarios.", "这个页面需要 JavaScript 才能运行场景。"},
	{"Did not behave as the scenario teaches: ", "运行结果与场景所讲的不符："},
	{"Could not list the scenarios: ", "无法列出场景："},
	{"%s (seed %s)", "%s（种子 %s）"},

	// The teaching scenarios' figures, printed under their explanations.
	{"round trip %d: the server sent %d new segments", "第 %d 个往返时间：服务器发出 %d 个新报文段"},
	{"at %v the loss was detected: ssthresh = %d bytes (%d segments), cwnd = %d bytes", "在 %v 检测到丢包：ssthresh = %d 字节（%d 个报文段），cwnd = %d 字节"},
	{"the first retransmission left at %v, after %d duplicate ACKs", "第一次重传在 %v 发出，此前收到 %d 个重复 ACK"},
	{"the second left at %v, at the partial ACK", "第二次重传在 %v 发出，紧接着部分确认"},
	{"ssthresh = %d bytes (%d segments); retransmission timeouts: %d", "ssthresh = %d 字节（%d 个报文段）；重传超时：%d 次"},
	{"the client advertised a zero window at %v and reopened it at %v", "客户端在 %v 通告零窗口，在 %v 重新打开窗口"},
	{"zero-window probes from the server: %d, at %s", "服务器发出的零窗口探测：%d 个，时间为 %s"},
	{"keepalive probes from the client: %d, at %s; answered: %d", "客户端发出的保活探测：%d 个，时间为 %s；得到应答：%d 个"},
	{"the client gave up at %v: %v; the server's side is still ESTABLISHED (it has no keepalive)", "客户端在 %v 放弃：%v；服务器一方仍处于 ESTABLISHED（它没有开启保活）"},
	{"connection timed out", "连接超时"},
	{"with Nagle (connection %d): the answer arrived %v after the request's first byte was sent", "使用 Nagle 算法（第 %d 条连接）：请求的第一个字节发出 %v 之后，应答到达"},
	{"with TCP_NODELAY (connection %d): the answer arrived %v after the request's first byte was sent", "使用 TCP_NODELAY（第 %d 条连接）：请求的第一个字节发出 %v 之后，应答到达"},
	{"spoofed SYNs: %d; the SYN queue held %d of %d when the real client's SYN arrived", "伪造的 SYN：%d 个；真正的客户端的 SYN 到达时，SYN 队列中有 %d 个（容量 %d）"},
	{"server: SyncookiesSent %d, SyncookiesRecv %d, SyncookiesFailed %d; PassiveOpens %d (the queue's and the client's), AttemptFails %d (given up after their SYN-ACK retries)", "服务器：SyncookiesSent %d，SyncookiesRecv %d，SyncookiesFailed %d；PassiveOpens %d（队列中的半连接和客户端的连接），AttemptFails %d（SYN-ACK 重传用尽后放弃）"},
	{"connection %d: port %d, opened at %v with %d of the client's connections in TIME-WAIT; in TIME-WAIT from %v to %v", "第 %d 条连接：端口 %d，在 %v 打开，当时客户端有 %d 条连接处于 TIME-WAIT；从 %v 到 %v 处于 TIME-WAIT"},
	{"connect found no free port %d times, from %v to %v", "connect 有 %d 次找不到空闲端口，从 %v 到 %v"},
	// ICMP messages on the ladder (trace/ladder's icmpWords): the names of
	// RFC 792 and RFC 4443 as the Chinese textbooks give them.
	{"Destination Unreachable", "目的不可达"},
	{"Fragmentation Needed", "需要分片"},
	{"Fragmentation Needed (next-hop mtu not given)", "需要分片（未给出下一跳 MTU）"},
	{"Packet Too Big", "分组过大"},
	{"Time Exceeded", "时间超过"},
	{"Parameter Problem", "参数问题"},
	{"Echo Request", "回送请求"},
	{"Echo Reply", "回送回答"},
	{"Source Quench", "源点抑制"},
	{"Redirect", "改变路由（重定向）"},
	{" (net unreachable)", "（网络不可达）"},
	{" (host unreachable)", "（主机不可达）"},
	{" (protocol unreachable)", "（协议不可达）"},
	{" (port unreachable)", "（端口不可达）"},
	{" (administratively prohibited)", "（被管理策略禁止）"},
	{" (no route to destination)", "（没有到目的地的路由）"},
	{" (address unreachable)", "（地址不可达）"},
	{" (TTL exceeded in transit)", "（传输中 TTL 减到 0）"},
	{" (hop limit exceeded in transit)", "（传输中跳数限制减到 0）"},
	{" (fragment reassembly time exceeded)", "（分片重组超时）"},
	{"dest-unreachable", "目的不可达"},
	{"fragmentation-needed", "需要分片"},
	{"packet-too-big", "分组过大"},
	{"time-exceeded", "时间超过"},
	{"parameter-problem", "参数问题"},
	{"echo-request", "回送请求"},
	{"echo-reply", "回送回答"},
	{"net-unreachable", "网络不可达"},
	{"host-unreachable", "主机不可达"},
	{"protocol-unreachable", "协议不可达"},
	{"port-unreachable", "端口不可达"},
	{"admin-prohibited", "被管理策略禁止"},
	{"no-route", "没有路由"},
	{"address-unreachable", "地址不可达"},
	{"ttl-exceeded", "TTL 减到 0"},
	{"hop-limit-exceeded", "跳数限制减到 0"},
	{"reassembly-time-exceeded", "分片重组超时"},
	{" from %s", "，来自 %s"},
	{"%s reaches %s", "%s到达%s"},
	{" [abs]", " [绝对值]"},
	{" [abs seq]", " [seq 为绝对值]"},
	{" [abs ack]", " [ack 为绝对值]"},

	// Notes of a capture's ladder (package capture, trace/ladder), read
	// back out of their English by TrFilled.
	{"showing connection %d of %d (%s <-> %s); Options.Conn chooses", "这里画的是第 %d 条连接（共 %d 条：%s <-> %s）；用 Options.Conn 选择其他连接"},
	{"showing connection %d of %d (%s <-> %s)", "这里画的是第 %d 条连接（共 %d 条：%s <-> %s）"},
	{"showing connection %d of %d (%s %s <-> %s %s); Options.Conn chooses", "这里画的是第 %d 条连接（共 %d 条：%s %s <-> %s %s）；用 Options.Conn 选择其他连接"},
	{"showing connection %d of %d (%s %s <-> %s %s)", "这里画的是第 %d 条连接（共 %d 条：%s %s <-> %s %s）"},
	{"the events name %d hosts (%s); showing %s and %s", "事件中出现了 %d 台主机（%s）；这里只画%s和%s"},
	{"one capture point: each packet is drawn once, when it was captured; states are inferred from the segments",
		"只有一个抓包点：每个分组只画一次，画在它被捕获的时刻；状态是根据报文段推断出来的"},
	{"#n is the frame number: the packet's place in the file, as Wireshark numbers it",
		"#n 是帧编号：分组在文件中的位置，与 Wireshark 的编号相同"},
	{"%s's state before the capture is unknown", "%s 在抓包开始前的状态未知"},
	{"%s's state could not be inferred from the segments", "%s 的状态无法从报文段推断出来"},
	{"%s recorded no state changes: its state is unknown", "%s 没有记录任何状态变化：它的状态未知"},
	{"%s ends in TIME-WAIT: it lasts 2·MSL after the capture's last segment of the connection, and its end sends nothing",
		"%s 最后处于 TIME-WAIT（时间等待）：它在抓包中这条连接的最后一个报文段之后还要持续 2MSL，结束时不发送任何报文段"},
	{"%s took in some SYN or FIN segments after it sent segments that do not acknowledge them: those arrivals are drawn where its segments show them",
		"%s 在发出一些并未确认某些 SYN 或 FIN 的报文段之后才收下它们：这些到达画在它自己的报文段表明的位置"},
	{"the handshake is not in the capture, so \"window full\" is not checked: it needs the window scale the SYNs announce",
		"抓包中没有三次握手，所以不检查“窗口已满”：这需要 SYN 报文段通告的窗口扩大因子"},
	{"#%d says the path MTU is %d bytes, yet %d later segments from %s are larger: " +
		"the capturing host's segmentation offload (GSO/TSO) cut them to the new size after the capture point",
		"#%d 说路径 MTU 是 %d 字节，但此后 %d 个来自 %s 的报文段更大：抓包主机的分段卸载（GSO/TSO）在抓包点之后才把它们切成新的大小"},
	{"%d segments from %s carry more than the %d-byte MSS %s announced (the largest %d bytes): " +
		"the capturing host's NIC or kernel offload (TSO/GSO when sending, GRO/LRO when receiving) had yet to cut them or had merged them, " +
		"so the capture shows them as the host handed them over, not as they crossed the wire",
		"%d 个来自 %s 的报文段超过了 %d 字节的 MSS（%s 通告的；最大的有 %d 字节）：抓包主机的网卡或内核卸载（发送时 TSO/GSO，接收时 GRO/LRO）" +
			"还没有把它们切开，或者已经把它们合并，所以抓包显示的是主机交出或收到时的样子，而不是它们在线路上的样子"},
	{"%s this connection's segments: drawn when captured, to the host that sent the quoted segment, from the host or the router (%s) that sent it; " +
		"a host heeds one only if the quoted seq is one it sent and is unacknowledged (RFC 5927 §4.1), " +
		"and whether it then gives up is its own choice (RFC 1122 §4.2.3.9, RFC 5461): the states are not inferred from ICMP",
		"%s这条连接的报文段：画在被捕获的时刻，从发出它的主机或路由器（%s）指向发出被引用报文段的主机；" +
			"主机只有在被引用的 seq 是它发出且尚未被确认的时候才理会它（RFC 5927 §4.1），" +
			"理会之后是否放弃连接由主机自己决定（RFC 1122 §4.2.3.9，RFC 5461）：状态不根据 ICMP 推断"},
	{"1 ICMP message quotes", "1 个 ICMP 报文引用了"},
	{"%d ICMP messages quote", "%d 个 ICMP 报文引用了"},

	// A capture's expert marks (Wireshark's tcp.analysis.*).
	{"keep-alive", "保活探测"},
	{"zero-window probe (keep-alive form)", "零窗口探测（保活形式）"},
	{"zero-window probe", "零窗口探测"},
	{"zero window", "零窗口"},
	{"window full", "窗口已满"},
	{"window update", "窗口更新"},
	{"spurious: already acknowledged", "虚假重传：早已被确认"},
	{"fast retransmission, after %d duplicate ACKs", "快重传，在 %d 个重复确认之后"},
	{"out-of-order", "失序"},
	{"its first transmission was not captured", "它的第一次发送没有被抓到"},
	{"previous segment not captured", "前一个报文段没有被抓到"},
	{"duplicate ACK #%d of #%d", "第 %d 个重复确认（重复 #%d）"},
	{"acknowledges a segment that was not captured", "确认了一个没有被抓到的报文段"},

	// Why a stack dropped a segment (package trace's drop causes).
	{"bad checksum", "检验和错误"},
	{"truncated", "被截断"},
	{"IP fragment", "IP 分片"},
	{"malformed packet", "格式错误的分组"},
	{"not addressed to this host", "不是发给本主机的"},
	{"listen backlog full", "监听队列已满"},
	{"no ACK or SYN for a listener", "发给监听端口却既无 ACK 也无 SYN"},
	{"RST for no connection", "没有对应连接的 RST"},
	{"unacceptable ACK in SYN-SENT", "SYN-SENT 状态下不可接受的 ACK"},
	{"RST without acceptable ACK in SYN-SENT", "SYN-SENT 状态下不带可接受 ACK 的 RST"},
	{"no SYN in SYN-SENT", "SYN-SENT 状态下收到的报文段没有 SYN"},
	{"RST outside the window", "窗口之外的 RST"},
	{"unacceptable sequence number", "不可接受的序号"},
	{"no ACK", "没有 ACK"},
	{"unacceptable ACK in SYN-RECEIVED", "SYN-RECEIVED 状态下不可接受的 ACK"},
	{"unacceptable ACK", "不可接受的 ACK"},
	{"PAWS", "PAWS（防止序号回绕）"},
	{"out-of-order queue full", "乱序队列已满"},
	{"SYN queue full", "SYN 队列已满"},
	{"martian source", "非法源地址"},
	{"broadcast or multicast destination", "广播或多播目的地址"},
	{"source is our own address (LAND)", "源地址是本机地址（LAND 攻击）"},
	{"SYN with FIN or RST", "SYN 与 FIN 或 RST 同时置位"},
	{"connection limit reached", "连接数已达上限"},

	// The counters' table of scenario run (the MIB's names, RFC 4022,
	// under the Chinese ones).
	{"ActiveOpens", "主动打开"},
	{"PassiveOpens", "被动打开"},
	{"AttemptFails", "打开失败"},
	{"EstabResets", "连接被复位"},
	{"InSegs", "收到报文段"},
	{"OutSegs", "发出报文段"},
	{"RetransSegs", "重传报文段"},
	{"InErrs", "出错报文段"},
	{"OutRsts", "发出 RST"},

	// The http scenario's table.
	{"mode", "方式"},
	{"handshakes", "握手次数"},
	{"segments", "报文段"},
	{"retransmitted", "重传"},
	{"payload bytes", "数据字节"},
	{"wire bytes", "线路字节"},

	// A capture's summary (package capture's WriteText).
	{"%s: %s, %d packets, %d TCP connections", "%s：%s 格式，%d 个分组，%d 条 TCP 连接"},
	{", %d ICMP messages", "，%d 个 ICMP 报文"},
	{"; time 0 is the first packet, %s", "；时间 0 是第一个分组的时刻，%s"},
	{", %d ICMP", "，%d 个 ICMP 报文"},
	{"  connection %d: %s (%d packets%s)", "  第 %d 条连接：%s（%d 个分组%s）"},
	{"ICMP messages:", "ICMP 报文："},
	{"about no connection", "与任何连接无关"},
	{"about connection %d", "关于第 %d 条连接"},
	{"%d ICMP messages quote no TCP segment of the capture (echo requests and replies, errors about other packets): " +
		"synack ladder --icmp draws those between a connection's two hosts on its ladder and lists them all",
		"%d 个 ICMP 报文没有引用抓包中的任何 TCP 报文段（回送请求和回送回答，关于其他分组的差错报告）：" +
			"synack ladder --icmp 会把一条连接两台主机之间的这些报文画在它的梯形图上，并全部列出"},
	{"%d segments were cut by the snaplen: their headers are read, their payload length comes from the IP header, and their checksums are not checked",
		"%d 个报文段被 snaplen 截断：读取了它们的首部，数据长度取自 IP 首部，不检查检验和"},
	{"  (and %d more)", "  （还有 %d 个）"},
	{"IPv4 fragments (not reassembled)", "IPv4 分片（未重组）"},
	{"IPv6 fragments (not reassembled)", "IPv6 分片（未重组）"},
	{"IPv6 packets with no upper-layer header (No Next Header)", "没有上层首部的 IPv6 分组（No Next Header）"},
	{" quoting ", " 引用 "},

	// The command line (cmd/synack): summaries.
	{"%s (scenario %s, seed %d)", "%s（场景 %s，种子 %d）"},
	{"Ended at %v of virtual time.", "虚拟时间 %v 时结束。"},
	{"host", "主机"},
	{"From the capture %s (%s, %d frames): the states are inferred from the segments.",
		"来自抓包文件 %s（%s，%d 帧）：状态是根据报文段推断出来的。"},
	{"%s, connection %d: %s", "%s，第 %d 条连接：%s"},
	{"Failed runs (repeat one alone with its command; add --ladder for its diagram):",
		"失败的运行（用它的命令单独重跑一次；加上 --ladder 可以看它的梯形图）："},
	{"\nretransmits: segments the senders sent again, all runs; spurious: segments whose every byte had already\n" +
		"reached the receiver (spurious retransmissions and link duplicates), all runs; data time: first SYN until\n" +
		"the receiver had every byte and the FIN; longest run: until both ends were CLOSED (TIME-WAIT included).\n",
		"\nretransmits：所有运行中发送方重传的报文段；spurious：所有运行中每个字节都早已到达接收方的\n" +
			"报文段（虚假重传和链路复制的副本）；data time：从第一个 SYN 到接收方收齐全部字节和 FIN；\n" +
			"longest run：直到两端都回到 CLOSED（包括 TIME-WAIT）。\n"},
	{"\nudp: datagrams the client sent beside the transfer, all runs; delivered: read by the server at least once,\n" +
		"each exactly as sent (SHA-256 checked); duplicated: further copies read; reordered: read first after a\n" +
		"higher-numbered one; lost: never read, those dropped for a bad checksum by the server's UDP among them.\n" +
		"RFC 768 promises neither delivery, nor once, nor order: only a datagram delivered not as sent fails a run.\n",
		"\nudp：所有运行中客户端在传输之外发送的数据报；delivered：服务器至少读到一次的数据报，每个都与发送时\n" +
			"完全相同（以 SHA-256 核对）；duplicated：重复读到的副本；reordered：乱序，即在编号更大的数据报之后\n" +
			"才首次读到；lost：丢失，即从未读到，其中包括服务器的 UDP 因校验和错误而丢弃的数据报（bad checksum）。\n" +
			"RFC 768 既不保证送达，也不保证只送达一次或按序送达：只有送达的数据报与发送时不同，运行才算失败。\n"},
	{";\n  ", "；\n  "},
	{".", "。"},
	{"note: with %s this run differs from the explanation above, which describes the run without impairments:",
		"注：使用 %s 时，这次运行与上面的解释不同（上面描述的是没有链路损伤的运行）："},
	{"scenario %s did not behave as it should:\n  %s", "场景 %s 的表现与应有的不符：\n  %s"},

	// synack ladder -i: the live ladder (capture.Stream and cmd/synack).
	{"capturing on %s (%s): the ladder of each TCP connection is drawn as its packets come; Ctrl-C stops",
		"正在 %s（%s）上抓包：每条 TCP 连接的梯形图随报文段的到来逐行画出；按 Ctrl-C 停止"},
	{"time 0 is the first TCP or ICMP packet captured, %s", "时间 0 是抓到的第一个 TCP 或 ICMP 报文，%s"},
	{"Connection %d: %s", "第 %d 条连接：%s"},
	{"(connection %d: %s)", "（第 %d 条连接：%s）"},
	{"only the first %d packets of the connections drawn were kept: the later ones are not drawn",
		"所画连接只保留了前 %d 个报文，之后的报文没有画出"},
	{"%d %s were left out", "略去了 %d 个%s"},
	{"packets that are not IP (ARP, LLDP...)", "不是 IP 的报文（ARP、LLDP 等）"},
	{"IP packets that are neither TCP nor ICMP (UDP...)", "既不是 TCP 也不是 ICMP 的 IP 报文（UDP 等）"},
	{"ICMPv6 neighbour discovery and multicast listener messages (the link's own)",
		"ICMPv6 邻居发现和组播侦听报文（链路自身的报文）"},
	{"TCP segments of other connections", "其他连接的 TCP 报文段"},
	{"%d packets could not be decoded and were left out:", "%d 个报文无法解析，已略去："},
	{"later packets changed rows drawn above; the whole capture draws this connection so:",
		"后来的报文改变了上面已画出的几行；按整个抓包，这条连接应画成这样："},
	{"no TCP segments were seen", "没有抓到 TCP 报文段"},
	{"no TCP segments of %s were seen", "没有抓到 %s 的 TCP 报文段"},
	{"no TCP segments to or from port %d were seen", "没有抓到端口 %d 收发的 TCP 报文段"},
	{"#n numbers the packets in the order the interface showed them, counted from 1 as Wireshark numbers the frames of the --pcap file",
		"#n 是报文在网卡上出现的顺序，从 1 数起，与 Wireshark 给 --pcap 文件中各帧的编号相同"},
	{"stopped by a signal", "收到信号后停止"},
	{"Ethernet", "以太网"},
	{"raw IP", "原始 IP"},
	{"Linux cooked (SLL)", "Linux cooked（SLL）"},
	{"--duration %s reached", "已到 --duration %s"},
	{"--count %d reached", "已到 --count %d"},
	{"%d packets captured on %s in %s: %s", "在 %[2]s 上 %[3]s 内抓到 %[1]d 个报文：%[4]s"},
	{"the kernel dropped %d packets the capture did not read in time: they are in neither the ladder nor the --pcap file",
		"内核丢弃了 %d 个来不及读取的报文：梯形图和 --pcap 文件中都没有它们"},
	{"--pcap %s: %d packets written (pcapng); synack ladder %s draws them again, Wireshark opens them",
		"--pcap %s：已写入 %d 个报文（pcapng）；synack ladder %s 可以重新画出，Wireshark 也能打开"},
	// The pictures of a live capture (cmd/synack/livepics.go).
	{"Captured live on %s (%s, %d frames): the states are inferred from the segments.",
		"在 %s 上实时抓包（%s，%d 帧）：状态是根据报文段推断出来的。"},
	{"%s: connection %d, %s", "%s：第 %d 条连接，%s"},
	{"%s: connection %d, %s, the latest of the %d chosen",
		"%s：第 %d 条连接，%s，是选中的 %d 条连接中最新的一条"},
	{"%s: connection %d, %s, the latest of the %d chosen (synack ladder %s --conn %s draws it again)",
		"%s：第 %d 条连接，%s，是选中的 %d 条连接中最新的一条（synack ladder %s --conn %s 可以重新画出它）"},
	{"%s: not written, as no TCP connection to draw was seen", "%s：没有写入，因为没有抓到可画的 TCP 连接"},
	{"the capture goes on, but no more pictures are written", "抓包继续进行，但不再写入图片"},
	{"the pictures stop at packet %d: without --pcap the capture is kept in memory for them, %d MiB at most; give --pcap FILE to draw it all",
		"图片只画到第 %d 个报文：没有 --pcap 时，抓到的报文为画图保存在内存中，最多 %d MiB；加上 --pcap FILE 才能全部画出"},
	{"past packet %d (%d MiB) the pictures were not drawn again during the capture, only at its end, from the whole --pcap file",
		"第 %d 个报文（%d MiB）之后，抓包过程中不再重画图片，只在结束时根据完整的 --pcap 文件画一次"},

	// soak --hostile (cmd/synack/soak_hostile.go, package sim's
	// HostileCase.About and HostileResult.Notes).
	{"full", "完整"},
	{"quick", "快速"},
	{"Hostile soak, seed %d (%s): one server, legitimate clients, one attacker per case.",
		"恶意环境浸泡测试，种子 %d（%s）：一台服务器、若干正常客户端，每个用例一个攻击者。"},
	{"FAILED:", "失败："},
	{"attack\tlegit\tbytes intact\tattack packets\tbuffers\t",
		"攻击\t正常连接\t完好字节\t攻击报文\t缓冲区\t"},
	{"heap\tper attack packet\tper normal segment\t× normal\tworst eighth ×\tcostliest\t",
		"堆\t每个攻击报文\t每个正常报文段\t× 正常\t最差八分之一 ×\t最贵的一个\t"},
	{`legit: the legitimate clients' connections that completed, each a request and a response
checked byte for byte; bytes intact: of those they and the server sent each other; attack
packets: reaching the server's stack; buffers: the high-water mark of the server stack's
buffer accounting (stack.Memory).
`,
		`正常连接：完成了的正常客户端连接，每条连接一个请求和一个响应，逐字节核对；完好字节：
它们与服务器互相发送的字节中完好到达的部分；攻击报文：到达服务器协议栈的攻击报文数；
缓冲区：服务器协议栈自己的缓冲区记账（stack.Memory）的最高水位。
`},
	{`heap: the Go heap's high-water mark above its start (the whole simulated world), sampled;
per attack packet and per normal segment: wall time of the server stack's Input and its
share of the Output that answered, per packet, the normal segment a legitimate client's
data segment in the same run (packets above 50× their median, preempted or stopped by the
garbage collector, left out); worst eighth: the costliest eighth of the attack in order of
arrival (as its queues grow) after its first 1%; costliest: the single costliest packet.
These vary from run to run; --wall=false leaves them out.
`,
		`堆：Go 堆相对开始时的最高水位（整个模拟世界），抽样得到；每个攻击报文与每个正常报文段：
服务器协议栈处理该报文的 Input 以及应答它的 Output 所分摊的墙钟时间，按报文计；正常报文段
是同一次运行中正常客户端的数据报文段（超过各自中位数 50 倍的报文，即被抢占或被垃圾回收
暂停的，不计入）；最差八分之一：按到达顺序（队列随之增长）把攻击的前 1% 之后分成八段，
其中代价最高的一段；最贵的一个：代价最高的单个报文。这些数字每次运行都会不同；
--wall=false 不显示它们。
`},
	{"spoofed SYNs from random sources at a set rate", "以固定速率从随机伪造源地址发出的 SYN"},
	{"blind RST, SYN and data at random sequence numbers into the clients' connections",
		"以随机序号向客户端连接盲注入 RST、SYN 和数据"},
	{"1-byte segments, each after a 1-byte hole, on a connection with a 4 MiB window",
		"在窗口为 4 MiB 的连接上发送 1 字节报文段，每个之前都留一个 1 字节的空洞"},
	{"a peer announcing MSS 1 whose SACK blocks fragment a long retransmission queue",
		"通告 MSS 为 1 的对端，用 SACK 块把很长的重传队列切碎"},
	{"a peer announcing MSS 48 whose SACK blocks fragment a long retransmission queue",
		"通告 MSS 为 48 的对端，用 SACK 块把很长的重传队列切碎"},
	{"peers that never read: a zero window for ever, every probe answered",
		"从不读取的对端：窗口永远为零，每个探测都有应答"},
	{"peers that vanish with the server's data in flight", "在服务器的数据还在途时消失的对端"},
	{"spoofed SYNs: %d at %d a second; SYN cookies sent %d, validated %d",
		"伪造的 SYN：%d 个，每秒 %d 个；发出 SYN cookie %d 个，验证通过 %d 个"},
	{"blind RSTs %d (%d in the window, %d at RCV.NXT), SYNs %d (%d in the window), data %d (%d in the window, %d with an acceptable ACK)",
		"盲注入 RST %d 个（落在窗口内 %d 个，恰为 RCV.NXT 的 %d 个），SYN %d 个（落在窗口内 %d 个），数据 %d 个（落在窗口内 %d 个，其中确认号可接受的 %d 个）"},
	{"connections reset: %d; challenge ACKs sent %d, held back by the rate limit %d; dropped by PAWS %d",
		"被重置的连接：%d 条；发出挑战 ACK %d 个，被限速压下 %d 个；被 PAWS 丢弃 %d 个"},
	{"1-byte segments: %d; the most bytes held out of order (each a range after a hole): %d",
		"1 字节报文段：%d 个；乱序暂存的最多字节数（每个都是空洞之后的一段）：%d"},
	{"announced MSS %d, the server's send MSS %d; the retransmission queue at the abuse: %d segments (%d SACKed at most); abusive ACKs %d",
		"通告 MSS %d，服务器的发送 MSS %d；攻击开始时的重传队列：%d 个报文段（最多 %d 个被 SACK）；恶意 ACK %d 个"},
	{"zero-window peers: %d; the server freed %d of them, at %v after its close (each), ending with: %v",
		"零窗口对端：%d 个；服务器释放了其中 %d 个，分别在它关闭后 %v，结束原因：%v"},
	{"vanished peers: %d; the server freed %d of them, at %v after its close (each), ending with: %v",
		"消失的对端：%d 个；服务器释放了其中 %d 个，分别在它关闭后 %v，结束原因：%v"},
}
