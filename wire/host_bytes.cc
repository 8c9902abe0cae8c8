#include "wire/host_bytes.h"

#include <algorithm>
#include <cstring>

namespace biofed {

HostBytes& HostBytes::operator=(const HostBytes& other) {
  if (this != &other) assign(other.data(), other.size());
  return *this;
}

HostBytes& HostBytes::operator=(HostBytes&& other) noexcept {
  HostBytes moved(std::move(other));
  swap(moved);
  return *this;
}

void HostBytes::swap(HostBytes& other) noexcept {
  std::swap(data_, other.data_);
  std::swap(size_, other.size_);
  std::swap(capacity_, other.capacity_);
}

void HostBytes::reserve(size_t capacity) {
  if (capacity <= capacity_) return;
  std::unique_ptr<char[]> grown(new char[capacity]);  // default-initialised: not written
  if (size_ > 0) std::memcpy(grown.get(), data_.get(), size_);
  data_ = std::move(grown);
  capacity_ = capacity;
}

void HostBytes::ResizeUninitialized(size_t size) {
  reserve(size);
  size_ = size;
}

void HostBytes::resize(size_t size) {
  const size_t old = size_;
  ResizeUninitialized(size);
  if (size > old) std::memset(data_.get() + old, 0, size - old);
}

void HostBytes::assign(size_t count, char value) {
  ResizeUninitialized(count);
  if (count > 0) std::memset(data_.get(), value, count);
}

void HostBytes::assign(const char* data, size_t size) {
  if (size > capacity_) {
    HostBytes fresh;  // `data` may point into this array: copy before letting it go
    fresh.reserve(size);
    std::memcpy(fresh.data_.get(), data, size);
    fresh.size_ = size;
    swap(fresh);
    return;
  }
  if (size > 0) std::memmove(data_.get(), data, size);
  size_ = size;
}

void HostBytes::append(const char* data, size_t size) {
  if (size == 0) return;
  if (size_ + size > capacity_) {
    HostBytes grown;  // `data` may point into this array: it stays valid until the swap
    grown.reserve(std::max(size_ + size, 2 * capacity_));
    if (size_ > 0) std::memcpy(grown.data_.get(), data_.get(), size_);
    std::memcpy(grown.data_.get() + size_, data, size);
    grown.size_ = size_ + size;
    swap(grown);
    return;
  }
  std::memmove(data_.get() + size_, data, size);
  size_ += size;
}

bool operator==(const HostBytes& a, const HostBytes& b) {
  return a.size() == b.size() && (a.size() == 0 || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

}  // namespace biofed
