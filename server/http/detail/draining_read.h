// async_read_draining: a socket read that tells Asio's reactor when it has
// emptied the socket, so that the next read waits for the kernel's edge
// instead of paying a syscall to find out there is nothing yet.
//
// Why: a keep-alive client sends its next request only after our answer, so
// the read started after each answer finds an empty socket. Asio 1.81 then
// either tries a recv that fails with EAGAIN (async_read_some) or re-arms the
// descriptor with epoll_ctl (async_wait); one syscall per request either way
// (docs/PERFORMANCE.md). Asio's reactor already skips both once a read has
// returned "done and exhausted", but its own recv says so only at end of
// file.
//
// How this read knows the socket is empty: TCP_INQ. With it, each recvmsg
// also returns the bytes still queued after it, and 1 instead of 0 once the
// peer's FIN has arrived (tcp_inq_hint). A read that sees 0 says "exhausted";
// bytes that arrive later make the edge-triggered epoll fire, which makes
// the reactor try again. A short read alone would not do: the FIN may come
// in the same edge as the last bytes, and a read waiting for another edge
// after them would wait until a timeout (nginx asks epoll for EPOLLRDHUP
// for the same reason).
//
// This reaches into boost::asio::detail, so it is built only for the
// reactor it was written against (epoll, Boost 1.81); elsewhere, or where
// the kernel refuses TCP_INQ (before Linux 4.18), it is async_read_some.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/version.hpp>
#include <cstddef>
#include <utility>

#if BOOST_VERSION == 108100 && defined(BOOST_ASIO_HAS_EPOLL) && \
    !defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
#define SRMI_DRAINING_READ 1
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <boost/asio/detail/fenced_block.hpp>
#include <boost/asio/detail/handler_alloc_helpers.hpp>
#include <boost/asio/detail/handler_work.hpp>
#include <boost/asio/detail/reactor.hpp>
#include <boost/asio/detail/reactor_op.hpp>
#include <boost/asio/detail/socket_ops.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/query.hpp>
#include <cerrno>
#include <cstring>
#else
#define SRMI_DRAINING_READ 0
#endif

namespace srmi::server::detail {

#if SRMI_DRAINING_READ

namespace asio_detail = boost::asio::detail;

/// A recv into one buffer, performed by the reactor like Asio's own.
template <class Handler, class IoExecutor>
class DrainingRecvOp : public asio_detail::reactor_op {
  public:
    BOOST_ASIO_DEFINE_HANDLER_PTR(DrainingRecvOp);

    DrainingRecvOp(asio_detail::socket_type socket, boost::asio::mutable_buffer buffer,
                   Handler& handler, const IoExecutor& io_ex)
        : reactor_op(boost::system::error_code(), &DrainingRecvOp::do_perform,
                     &DrainingRecvOp::do_complete),
          socket_(socket),
          buffer_(buffer),
          handler_(std::move(handler)),
          work_(handler_, io_ex) {}

    static status do_perform(reactor_op* base) {
        auto* op = static_cast<DrainingRecvOp*>(base);
        iovec chunk{op->buffer_.data(), op->buffer_.size()};
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
        msghdr message{};
        message.msg_iov = &chunk;
        message.msg_iovlen = 1;
        message.msg_control = control;
        ssize_t received = 0;
        do {
            message.msg_controllen = sizeof control;         // the kernel sets what it used
            received = ::recvmsg(op->socket_, &message, 0);  // the socket is non-blocking
        } while (received < 0 && errno == EINTR);
        if (received < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return not_done;  // wait for the edge
            op->ec_.assign(errno, boost::asio::error::get_system_category());
            op->bytes_transferred_ = 0;
            return done;
        }
        op->bytes_transferred_ = static_cast<std::size_t>(received);
        op->ec_ = {};
        if (received == 0) {  // end of file, as Asio's own recv says it
            if (op->buffer_.size() > 0) op->ec_ = boost::asio::error::eof;
            return done_and_exhausted;
        }
        return still_queued(message) == 0 ? done_and_exhausted : done;
    }

    /// TCP_INQ's count after the read; -1 (unknown) without it.
    static int still_queued(msghdr& message) {
        for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
            if (c->cmsg_level == SOL_TCP && c->cmsg_type == TCP_CM_INQ) {
                int queued = -1;
                std::memcpy(&queued, CMSG_DATA(c), sizeof queued);
                return queued;
            }
        }
        return -1;
    }

    static void do_complete(void* owner, asio_detail::operation* base,
                            const boost::system::error_code&, std::size_t) {
        // As Asio's reactive_socket_recv_op: the memory is freed before the
        // upcall, so the handler is moved out first.
        auto* op = static_cast<DrainingRecvOp*>(base);
        ptr p = {std::addressof(op->handler_), op, op};
        asio_detail::handler_work<Handler, IoExecutor> work(std::move(op->work_));
        asio_detail::binder2<Handler, boost::system::error_code, std::size_t> handler(
            op->handler_, op->ec_, op->bytes_transferred_);
        p.h = std::addressof(handler.handler_);
        p.reset();
        if (owner != nullptr) {
            asio_detail::fenced_block fence(asio_detail::fenced_block::half);
            work.complete(handler, handler.handler_);
        }
    }

  private:
    asio_detail::socket_type socket_;
    boost::asio::mutable_buffer buffer_;
    Handler handler_;
    asio_detail::handler_work<Handler, IoExecutor> work_;
};

/// The socket's reactor state, which basic_socket keeps protected: named
/// through a derived class, the member pointer is one of basic_socket's.
struct SocketAccess : boost::asio::ip::tcp::socket {
    static auto& implementation(boost::asio::ip::tcp::socket& socket) {
        return (socket.*(&SocketAccess::impl_)).get_implementation();
    }
};

#endif

/// Sets `socket` up for the draining read (TCP_INQ) and returns the reactor
/// that serves it, for async_read_draining; once per connection (use_service
/// locks). Null where the draining read is not built or the kernel refuses
/// TCP_INQ: async_read_draining is then async_read_some.
inline void* prepare_draining(boost::asio::ip::tcp::socket& socket) {
#if SRMI_DRAINING_READ
    const int on = 1;
    if (::setsockopt(socket.native_handle(), SOL_TCP, TCP_INQ, &on, sizeof on) != 0) return nullptr;
    auto& context = boost::asio::query(socket.get_executor(), boost::asio::execution::context);
    return &boost::asio::use_service<asio_detail::reactor>(context);
#else
    (void)socket;
    return nullptr;
#endif
}

/// Reads some bytes into `buffer`, then calls `handler(error_code, bytes)`
/// on the socket's executor, as `socket.async_read_some` would. The socket
/// should be non-blocking (`socket.non_blocking(true)`; if not, this is
/// async_read_some). `reactor` is prepare_draining(socket).
template <class Handler>
void async_read_draining(boost::asio::ip::tcp::socket& socket, void* reactor,
                         boost::asio::mutable_buffer buffer, Handler&& handler) {
#if SRMI_DRAINING_READ
    using Executor = boost::asio::ip::tcp::socket::executor_type;
    using Op = DrainingRecvOp<std::decay_t<Handler>, Executor>;
    auto& impl = SocketAccess::implementation(socket);
    if (reactor == nullptr || (impl.state_ & asio_detail::socket_ops::non_blocking) == 0) {
        return socket.async_read_some(buffer, std::forward<Handler>(handler));
    }
    const bool is_continuation = boost_asio_handler_cont_helpers::is_continuation(handler);
    typename Op::ptr p = {std::addressof(handler), Op::ptr::allocate(handler), nullptr};
    p.p = new (p.v) Op(impl.socket_, buffer, handler, socket.get_executor());
    // Speculative: read at once unless the last read emptied the socket and
    // no edge came since; then queued with no syscall at all.
    static_cast<asio_detail::reactor*>(reactor)->start_op(asio_detail::reactor::read_op,
                                                          impl.socket_, impl.reactor_data_, p.p,
                                                          is_continuation, true);
    p.v = p.p = nullptr;
#else
    (void)reactor;
    socket.async_read_some(buffer, std::forward<Handler>(handler));
#endif
}

}  // namespace srmi::server::detail
