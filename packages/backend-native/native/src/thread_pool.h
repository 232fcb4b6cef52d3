// A fixed pool of worker threads; the calling thread works too. Tasks are handed out through
// an atomic counter, and every task computes a fixed part of the output, so results do not
// depend on which thread ran what.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace sl {

class ThreadPool {
 public:
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }
  void resize(int threads);
  // Runs fn(0..ntasks-1) on the pool and returns when all are done.
  void run(int64_t ntasks, const std::function<void(int64_t)>& fn);

 private:
  void start(int threads);
  void stop();
  void worker_loop();
  void drain();

  std::vector<std::thread> workers_;
  std::mutex run_mu_;  // one parallel region at a time (several JS threads may call in)
  std::mutex mu_;
  std::condition_variable wake_cv_, done_cv_;
  const std::function<void(int64_t)>* job_ = nullptr;
  int64_t ntasks_ = 0;
  std::atomic<int64_t> next_{0};
  int busy_ = 0;
  uint64_t generation_ = 0;
  bool stopping_ = false;
};

// Threads the machine gives this process (affinity mask), at least 1.
int available_cores();

}  // namespace sl
