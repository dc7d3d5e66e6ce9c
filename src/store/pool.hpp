#pragma once
// A fixed set of connections handed out one at a time; waiting is counted for /metrics.
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "store/database.hpp"

namespace kefu::store {

template <class Conn>
class Pool {
 public:
  void add(std::unique_ptr<Conn> c) {
    std::lock_guard lk(mu_);
    free_.push_back(c.get());
    all_.push_back(std::move(c));
  }

  class Lease {
   public:
    Lease(Pool& p, Conn* c) : pool_(p), conn_(c) {}
    ~Lease() { pool_.release(conn_); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Conn& operator*() { return *conn_; }
    Conn* operator->() { return conn_; }

   private:
    Pool& pool_;
    Conn* conn_;
  };

  Lease acquire() {
    std::unique_lock lk(mu_);
    if (free_.empty()) {
      ++waits_;
      cv_.wait(lk, [&] { return !free_.empty() || closed_; });
    }
    if (closed_) throw DbError(DbError::Kind::connection, "database is closed");
    Conn* c = free_.back();
    free_.pop_back();
    return Lease(*this, c);
  }

  PoolStats stats() const {
    std::lock_guard lk(mu_);
    return {int(all_.size()), int(all_.size() - free_.size()), waits_};
  }

  // Waits until every connection is back, then drops them all.
  void close() {
    std::unique_lock lk(mu_);
    closed_ = true;
    cv_.notify_all();
    cv_.wait(lk, [&] { return free_.size() == all_.size(); });
    free_.clear();
    all_.clear();
  }

 private:
  void release(Conn* c) {
    std::lock_guard lk(mu_);
    free_.push_back(c);
    cv_.notify_all();
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Conn>> all_;
  std::vector<Conn*> free_;
  int64_t waits_ = 0;
  bool closed_ = false;
};

}  // namespace kefu::store
