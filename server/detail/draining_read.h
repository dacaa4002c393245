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
// file. A read that returns fewer bytes than asked has emptied the socket
// (tcp_recvmsg stops only when the queue is empty, and nginx relies on the
// same), so this operation says so then. New bytes make the edge-triggered
// epoll fire, which makes the reactor try again: nothing can be missed.
//
// This reaches into boost::asio::detail, so it is built only for the
// reactor it was written against (epoll, Boost 1.81); elsewhere it is
// async_read_some.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/version.hpp>
#include <cstddef>
#include <utility>

#if BOOST_VERSION == 108100 && defined(BOOST_ASIO_HAS_EPOLL) && \
    !defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
#define SRMI_DRAINING_READ 1
#include <boost/asio/detail/fenced_block.hpp>
#include <boost/asio/detail/handler_alloc_helpers.hpp>
#include <boost/asio/detail/handler_work.hpp>
#include <boost/asio/detail/reactor.hpp>
#include <boost/asio/detail/reactor_op.hpp>
#include <boost/asio/detail/socket_ops.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/query.hpp>
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
        if (!asio_detail::socket_ops::non_blocking_recv1(op->socket_, op->buffer_.data(),
                                                         op->buffer_.size(), 0, true, op->ec_,
                                                         op->bytes_transferred_)) {
            return not_done;  // nothing there: the reactor waits for the edge
        }
        // Short (or end of file, or an error): nothing is left to read until
        // the next edge.
        return op->bytes_transferred_ < op->buffer_.size() ? done_and_exhausted : done;
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

/// The reactor that serves `socket`'s I/O; look it up once per connection
/// (use_service locks). Null where the draining read is not built.
inline void* reactor_of(boost::asio::ip::tcp::socket& socket) {
#if SRMI_DRAINING_READ
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
/// async_read_some). `reactor` is reactor_of(socket).
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
