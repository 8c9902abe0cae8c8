// The bytes of a host tensor: a growable byte array with std::string's
// everyday interface, except that it can also grow without writing the new
// bytes (ResizeUninitialized). A 40 MB tensor that is about to be
// overwritten (received off the wire, aggregated) is then written once
// instead of zero-filled first. Copies are deep. Plain data; not
// thread-safe for writing.
#ifndef BIOFED_WIRE_HOST_BYTES_H_
#define BIOFED_WIRE_HOST_BYTES_H_

#include <cstddef>
#include <memory>
#include <ostream>
#include <string_view>

namespace biofed {

class HostBytes {
 public:
  HostBytes() = default;
  HostBytes(const char* data, size_t size) { assign(data, size); }
  HostBytes(const HostBytes& other) { assign(other.data(), other.size()); }
  HostBytes& operator=(const HostBytes& other);
  HostBytes(HostBytes&& other) noexcept { swap(other); }
  HostBytes& operator=(HostBytes&& other) noexcept;

  const char* data() const { return data_.get(); }
  char* data() { return data_.get(); }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t capacity() const { return capacity_; }
  operator std::string_view() const { return std::string_view(data(), size_); }  // NOLINT: like std::string

  void reserve(size_t capacity);
  // Like std::string: bytes past the old size become zero.
  void resize(size_t size);
  // Bytes past the old size are left as they are: the caller writes them.
  void ResizeUninitialized(size_t size);
  void assign(size_t count, char value);
  void assign(const char* data, size_t size);
  // `data` may point into this array.
  void append(const char* data, size_t size);
  void clear() { size_ = 0; }

  friend bool operator==(const HostBytes& a, const HostBytes& b);
  friend bool operator!=(const HostBytes& a, const HostBytes& b) { return !(a == b); }
  // For test failure messages: the size, not the bytes.
  friend std::ostream& operator<<(std::ostream& out, const HostBytes& b) { return out << b.size() << " bytes"; }

 private:
  void swap(HostBytes& other) noexcept;

  std::unique_ptr<char[]> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace biofed

#endif  // BIOFED_WIRE_HOST_BYTES_H_
