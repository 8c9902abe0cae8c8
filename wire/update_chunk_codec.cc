#include "wire/update_chunk_codec.h"

#include <algorithm>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include "common/status_macros.h"

namespace biofed {
namespace {

using google::protobuf::io::CodedInputStream;
using WireFormat = google::protobuf::internal::WireFormatLite;

absl::Status Malformed(const char* what) {
  return absl::InvalidArgumentError(std::string("malformed update chunk: ") + what);
}

void PutVarint(uint64_t value, std::string* out) {
  uint8_t buffer[10];  // a varint of 64 bits takes at most 10 bytes
  const uint8_t* end = google::protobuf::io::CodedOutputStream::WriteVarint64ToArray(value, buffer);
  out->append(reinterpret_cast<const char*>(buffer), static_cast<size_t>(end - buffer));
}

void PutTag(int field, WireFormat::WireType type, std::string* out) {
  PutVarint(WireFormat::MakeTag(field, type), out);
}

// Records the next `size` bytes as pieces of the stream's own buffers.
absl::Status ReadPieces(CodedInputStream* in, uint32_t size, std::vector<std::string_view>* pieces) {
  pieces->clear();
  while (size > 0) {
    const void* data = nullptr;
    int available = 0;
    if (!in->GetDirectBufferPointer(&data, &available) || available <= 0) return Malformed("payload cut short");
    const uint32_t n = std::min(size, static_cast<uint32_t>(available));
    pieces->emplace_back(static_cast<const char*>(data), n);
    in->Skip(static_cast<int>(n));
    size -= n;
  }
  return absl::OkStatus();
}

absl::Status ReadTensorData(CodedInputStream* in, UpdateChunkView* view) {
  uint32_t length = 0;
  if (!in->ReadVarint32(&length)) return Malformed("bad length");
  const CodedInputStream::Limit limit = in->PushLimit(static_cast<int>(length));
  while (const uint32_t tag = in->ReadTag()) {
    const int field = WireFormat::GetTagFieldNumber(tag);
    const WireFormat::WireType type = WireFormat::GetTagWireType(tag);
    uint64_t value = 0;
    if (field == v1::TensorData::kTensorIndexFieldNumber && type == WireFormat::WIRETYPE_VARINT) {
      if (!in->ReadVarint64(&value)) return Malformed("bad tensor index");
      view->tensor_index = static_cast<uint32_t>(value);  // as protobuf reads a uint32
    } else if (field == v1::TensorData::kOffsetFieldNumber && type == WireFormat::WIRETYPE_VARINT) {
      if (!in->ReadVarint64(&view->offset)) return Malformed("bad offset");
    } else if (field == v1::TensorData::kTensorCrc32CFieldNumber && type == WireFormat::WIRETYPE_FIXED32) {
      uint32_t crc = 0;
      if (!in->ReadLittleEndian32(&crc)) return Malformed("bad checksum");
      view->tensor_crc = crc;
    } else if (field == v1::TensorData::kPayloadFieldNumber && type == WireFormat::WIRETYPE_LENGTH_DELIMITED) {
      uint32_t size = 0;
      if (!in->ReadVarint32(&size)) return Malformed("bad payload length");
      BIOFED_RETURN_IF_ERROR(ReadPieces(in, size, &view->payload));  // a repeated field: the last one counts
    } else if (!WireFormat::SkipField(in, tag)) {
      return Malformed("bad field in tensor data");
    }
  }
  if (!in->ConsumedEntireMessage()) return Malformed("bad tag in tensor data");
  if (in->BytesUntilLimit() != 0) return Malformed("tensor data cut short");  // the stream ended first
  in->PopLimit(limit);
  return absl::OkStatus();
}

}  // namespace

absl::Status DecodeUpdateChunk(google::protobuf::io::ZeroCopyInputStream* stream, UpdateChunkView* view) {
  *view = UpdateChunkView();
  CodedInputStream in(stream);
  std::string other_parts;  // header, audit or trailer, re-encoded for protobuf's parser
  int parts = 0;
  while (const uint32_t tag = in.ReadTag()) {
    const int field = WireFormat::GetTagFieldNumber(tag);
    const bool delimited = WireFormat::GetTagWireType(tag) == WireFormat::WIRETYPE_LENGTH_DELIMITED;
    if (delimited && field == v1::UpdateChunk::kDataFieldNumber) {
      ++parts;
      view->is_data = true;
      BIOFED_RETURN_IF_ERROR(ReadTensorData(&in, view));
    } else if (delimited && (field == v1::UpdateChunk::kHeaderFieldNumber ||
                             field == v1::UpdateChunk::kAuditFieldNumber ||
                             field == v1::UpdateChunk::kTrailerFieldNumber)) {
      ++parts;
      uint32_t length = 0;
      std::string content;
      if (!in.ReadVarint32(&length) || !in.ReadString(&content, static_cast<int>(length))) {
        return Malformed("part cut short");
      }
      PutTag(field, WireFormat::WIRETYPE_LENGTH_DELIMITED, &other_parts);
      PutVarint(length, &other_parts);
      other_parts += content;
    } else if (!WireFormat::SkipField(&in, tag)) {
      return Malformed("bad field");
    }
  }
  if (!in.ConsumedEntireMessage()) return Malformed("bad tag");
  if (parts > 1) return absl::InvalidArgumentError("an update chunk with more than one part");
  if (!view->is_data && !view->message.ParseFromString(other_parts)) return Malformed("bad header, audit or trailer");
  return absl::OkStatus();
}

std::string DataChunkPrefix(uint32_t tensor_index, uint64_t offset, size_t payload_size,
                            std::optional<uint32_t> tensor_crc) {
  // TensorData up to its payload; proto3 leaves out zero values. The
  // checksum comes before the payload, which parsers accept in any order.
  std::string fields;
  if (tensor_index != 0) {
    PutTag(v1::TensorData::kTensorIndexFieldNumber, WireFormat::WIRETYPE_VARINT, &fields);
    PutVarint(tensor_index, &fields);
  }
  if (offset != 0) {
    PutTag(v1::TensorData::kOffsetFieldNumber, WireFormat::WIRETYPE_VARINT, &fields);
    PutVarint(offset, &fields);
  }
  if (tensor_crc) {
    PutTag(v1::TensorData::kTensorCrc32CFieldNumber, WireFormat::WIRETYPE_FIXED32, &fields);
    uint8_t bytes[4];
    google::protobuf::io::CodedOutputStream::WriteLittleEndian32ToArray(*tensor_crc, bytes);
    fields.append(reinterpret_cast<const char*>(bytes), 4);
  }
  PutTag(v1::TensorData::kPayloadFieldNumber, WireFormat::WIRETYPE_LENGTH_DELIMITED, &fields);
  PutVarint(payload_size, &fields);
  std::string prefix;
  PutTag(v1::UpdateChunk::kDataFieldNumber, WireFormat::WIRETYPE_LENGTH_DELIMITED, &prefix);
  PutVarint(fields.size() + payload_size, &prefix);
  return prefix + fields;
}

const std::string& SubmitUpdateMethodPath() {
  static const std::string path = [] {
    const google::protobuf::MethodDescriptor* method =
        v1::UpdateChunk::descriptor()->file()->FindServiceByName("Federation")->FindMethodByName("SubmitUpdate");
    return "/" + method->service()->full_name() + "/" + method->name();
  }();
  return path;
}

}  // namespace biofed
