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
	{"the scenario's rule %s, until %s", "按场景规则“%s”，直到 %s"},
	{"the scenario's rule %s", "按场景规则“%s”"},
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

	// The SVG picture (trace/ladder's WriteSVG).
	{"sent by %s", "%s发出"},
	{"%s later", "%s 后"},
	{"copy made by the link", "链路产生的副本"},
	{"#%d copy of #%d", "#%d 是 #%d 的副本"},
	{"lost on the way; #n numbers packets in sending order; a state is shown where it changes",
		"途中丢失；#n 按发送顺序给报文段编号；状态写在它发生变化的地方"},

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
	{";\n  ", "；\n  "},
	{".", "。"},
	{"note: with %s this run differs from the explanation above, which describes the run without impairments:",
		"注：使用 %s 时，这次运行与上面的解释不同（上面描述的是没有链路损伤的运行）："},
	{"scenario %s did not behave as it should:\n  %s", "场景 %s 的表现与应有的不符：\n  %s"},
}
