// NumPy's .npz format: a zip archive with one "<name>.npy" member per array,
// stored (numpy.savez) or deflated (numpy.savez_compressed). The reader
// takes the members from the central directory (with its zip64 extensions,
// which NumPy writes), checks every offset and size against the archive
// and each member's CRC-32, and reads each member as a .npy file.
#include <zlib.h>

#include <algorithm>
#include <limits>
#include <map>

#include "frontend/io.h"
#include "frontend/io_util.h"

namespace kiln {

namespace {

constexpr uint32_t kLocalHeaderSig = 0x04034b50;
constexpr uint32_t kCentralHeaderSig = 0x02014b50;
constexpr uint32_t kEndSig = 0x06054b50;
constexpr uint32_t kEnd64LocatorSig = 0x07064b50;
constexpr uint32_t kEnd64Sig = 0x06064b50;
constexpr size_t kEndSize = 22;
constexpr uint32_t k32Max = 0xffffffff;
// Deflate expands at most about 1032:1; a member that declares more is not
// deflate output, and its declared size is not allocated.
constexpr uint64_t kMaxDeflateRatio = 1032;

struct Member {
  std::string name;
  uint16_t method = 0;
  uint16_t flags = 0;
  uint32_t crc = 0;
  uint64_t compressed = 0;
  uint64_t uncompressed = 0;
  uint64_t local_offset = 0;
};

// --- writing ---------------------------------------------------------------

void put16(std::string& s, uint16_t v) { s.append(reinterpret_cast<const char*>(&v), 2); }
void put32(std::string& s, uint32_t v) { s.append(reinterpret_cast<const char*>(&v), 4); }

std::string deflate_raw(const std::string& in, const std::string& label) {
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    io::detail::fail("savez_compressed", label, "cannot initialise zlib");
  std::string out(deflateBound(&z, uLong(in.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = uInt(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = uInt(out.size());
  int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) io::detail::fail("savez_compressed", label, "zlib cannot compress");
  return out;
}

// --- reading ---------------------------------------------------------------

uint16_t get16(const std::string& s, size_t at) {
  uint16_t v;
  std::memcpy(&v, s.data() + at, 2);
  return v;
}
uint32_t get32(const std::string& s, size_t at) {
  uint32_t v;
  std::memcpy(&v, s.data() + at, 4);
  return v;
}
uint64_t get64(const std::string& s, size_t at) {
  uint64_t v;
  std::memcpy(&v, s.data() + at, 8);
  return v;
}

// Finds the end-of-central-directory record (it ends the archive, followed
// only by a comment of at most 64 KiB) and returns the central directory's
// offset, size and number of entries, following the zip64 record if needed.
void find_central_directory(io::detail::Cursor& cur, uint64_t* cd_offset, uint64_t* cd_size,
                            uint64_t* entries) {
  if (cur.size() < kEndSize) cur.fail("not a zip archive (too short)");
  size_t tail_size = std::min<size_t>(cur.size(), kEndSize + 0xffff);
  cur.seek(cur.size() - tail_size, "the archive's end");
  std::string tail = cur.string(tail_size, "the archive's end");
  size_t at = std::string::npos;
  for (size_t i = tail_size - kEndSize + 1; i-- > 0;)
    if (get32(tail, i) == kEndSig && i + kEndSize + get16(tail, i + 20) == tail_size) {
      at = i;
      break;
    }
  if (at == std::string::npos) cur.fail("not a zip archive (no end of central directory record)");
  if (get16(tail, at + 4) != 0 || get16(tail, at + 6) != 0) cur.fail("multi-disk archives are not supported");
  *entries = get16(tail, at + 10);
  *cd_size = get32(tail, at + 12);
  *cd_offset = get32(tail, at + 16);
  if (*entries != 0xffff && *cd_size != k32Max && *cd_offset != k32Max) return;
  // Zip64: a locator just before the record points at the zip64 record.
  size_t end_at = cur.size() - tail_size + at;
  if (end_at < 20) cur.fail("zip64 end of central directory locator missing");
  cur.seek(end_at - 20, "the zip64 locator");
  if (cur.u32("the zip64 locator") != kEnd64LocatorSig) cur.fail("zip64 end of central directory locator missing");
  cur.u32("the zip64 locator");
  uint64_t rec = cur.u64("the zip64 locator");
  if (rec > cur.size()) cur.fail("zip64 end of central directory record lies beyond the file");
  cur.seek(size_t(rec), "the zip64 record");
  if (cur.u32("the zip64 record") != kEnd64Sig) cur.fail("bad zip64 end of central directory record");
  cur.skip(8 + 2 + 2 + 4 + 4 + 8, "the zip64 record");
  *entries = cur.u64("the zip64 record");
  *cd_size = cur.u64("the zip64 record");
  *cd_offset = cur.u64("the zip64 record");
}

std::vector<Member> read_central_directory(io::detail::Cursor& cur) {
  uint64_t cd_offset, cd_size, entries;
  find_central_directory(cur, &cd_offset, &cd_size, &entries);
  if (cd_offset > cur.size() || cd_size > cur.size() - cd_offset)
    cur.fail("the central directory (" + std::to_string(cd_size) + " bytes at offset " +
             std::to_string(cd_offset) + ") lies beyond the file");
  // Each entry takes at least 46 bytes: a count beyond that is a lie.
  if (entries > cd_size / 46) cur.fail("the central directory declares more entries than it can hold");
  cur.seek(size_t(cd_offset), "the central directory");
  std::vector<Member> members;
  for (uint64_t e = 0; e < entries; ++e) {
    std::string h = cur.string(46, "a central directory entry");
    if (get32(h, 0) != kCentralHeaderSig) cur.fail("bad central directory entry signature");
    Member m;
    m.flags = get16(h, 8);
    m.method = get16(h, 10);
    m.crc = get32(h, 16);
    m.compressed = get32(h, 20);
    m.uncompressed = get32(h, 24);
    uint16_t name_len = get16(h, 28), extra_len = get16(h, 30), comment_len = get16(h, 32);
    m.local_offset = get32(h, 42);
    m.name = cur.string(name_len, "a member's name");
    std::string extra = cur.string(extra_len, "a member's extra field");
    cur.skip(comment_len, "a member's comment");
    // The zip64 extra field holds the 64-bit values of those that are
    // 0xffffffff above, in this order.
    for (size_t i = 0; i + 4 <= extra.size();) {
      uint16_t id = get16(extra, i), len = get16(extra, i + 2);
      if (i + 4 + len > extra.size()) cur.fail("member '" + m.name + "': bad extra field");
      if (id == 1) {
        size_t j = i + 4, end = i + 4 + len;
        for (uint64_t* field : {&m.uncompressed, &m.compressed, &m.local_offset}) {
          if (*field != k32Max) continue;
          if (j + 8 > end) cur.fail("member '" + m.name + "': short zip64 extra field");
          *field = get64(extra, j);
          j += 8;
        }
      }
      i += 4 + len;
    }
    members.push_back(std::move(m));
  }
  return members;
}

std::string read_member(io::detail::Cursor& cur, const Member& m) {
  const std::string what = "member '" + m.name + "'";
  if (m.flags & 1) cur.fail(what + " is encrypted");
  if (m.method != 0 && m.method != 8)
    cur.fail(what + " uses compression method " + std::to_string(m.method) + " (only stored and deflated are supported)");
  if (m.local_offset > cur.size()) cur.fail(what + ": local header offset lies beyond the file");
  cur.seek(size_t(m.local_offset), what);
  std::string h = cur.string(30, what + "'s local header");
  if (get32(h, 0) != kLocalHeaderSig) cur.fail(what + ": bad local header signature");
  cur.skip(uint64_t(get16(h, 26)) + get16(h, 28), what + "'s local header");
  cur.need(m.compressed, what + "'s data");
  std::string data = cur.string(m.compressed, what + "'s data");
  std::string out;
  if (m.method == 0) {
    if (m.uncompressed != m.compressed) cur.fail(what + ": stored sizes differ");
    out = std::move(data);
  } else {
    if (m.uncompressed > m.compressed * kMaxDeflateRatio + 1024)
      cur.fail(what + " declares " + std::to_string(m.uncompressed) + " bytes from " +
               std::to_string(m.compressed) + " compressed ones, more than deflate can produce");
    out.assign(size_t(m.uncompressed), '\0');
    z_stream z{};
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK) cur.fail("cannot initialise zlib");
    z.next_in = reinterpret_cast<Bytef*>(data.data());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    // zlib counts in uInt; feed and drain in pieces for members over 4 GiB.
    size_t in_left = data.size(), out_left = out.size();
    int rc = Z_OK;
    while (rc == Z_OK) {
      uInt in_step = uInt(std::min<size_t>(in_left, 1u << 30));
      uInt out_step = uInt(std::min<size_t>(out_left, 1u << 30));
      z.avail_in = in_step;
      z.avail_out = out_step;
      rc = inflate(&z, Z_NO_FLUSH);
      in_left -= in_step - z.avail_in;
      out_left -= out_step - z.avail_out;
      if (rc == Z_BUF_ERROR && (in_left == 0 || out_left == 0)) break;
    }
    inflateEnd(&z);
    if (rc != Z_STREAM_END || out_left != 0)
      cur.fail(what + ": corrupt deflate data or wrong uncompressed size");
  }
  uLong crc = crc32(0L, Z_NULL, 0);
  for (size_t i = 0; i < out.size(); i += 1u << 30)
    crc = crc32(crc, reinterpret_cast<const Bytef*>(out.data() + i), uInt(std::min<size_t>(out.size() - i, 1u << 30)));
  if (uint32_t(crc) != m.crc) cur.fail(what + ": CRC-32 mismatch");
  return out;
}

}  // namespace

void savez(std::shared_ptr<io::Writer> out_stream, std::unordered_map<std::string, array> arrays,
           bool compressed) {
  const char* fn = compressed ? "savez_compressed" : "savez";
  if (!out_stream) throw std::invalid_argument(std::string("[") + fn + "] The writer is null.");
  std::map<std::string, array> sorted(arrays.begin(), arrays.end());
  std::string central;
  size_t offset = 0;
  auto emit = [&](const std::string& bytes) {
    io::detail::write(*out_stream, fn, bytes.data(), bytes.size());
    offset += bytes.size();
  };
  for (auto& [key, a] : sorted) {
    std::string name = key + ".npy";
    if (name.size() > 0xffff) throw std::invalid_argument(std::string("[") + fn + "] Array name too long.");
    auto npy = std::make_shared<io::MemoryWriter>();
    save(npy, a);
    const std::string& raw = npy->bytes();
    std::string body = compressed ? deflate_raw(raw, out_stream->label()) : raw;
    if (raw.size() >= k32Max || body.size() >= k32Max || offset >= k32Max)
      io::detail::fail(fn, out_stream->label(), "archives over 4 GiB are not supported");
    uLong crc = crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(raw.data()), uInt(raw.size()));
    uint16_t method = compressed ? 8 : 0;
    // Fixed time stamp 1980-01-01 00:00: the same arrays give the same bytes.
    auto common = [&](std::string& h) {
      put16(h, 20);  // version needed: 2.0
      put16(h, 0);   // flags
      put16(h, method);
      put16(h, 0);       // time
      put16(h, 0x21);    // date
      put32(h, uint32_t(crc));
      put32(h, uint32_t(body.size()));
      put32(h, uint32_t(raw.size()));
      put16(h, uint16_t(name.size()));
      put16(h, 0);  // extra
    };
    std::string local;
    put32(local, kLocalHeaderSig);
    common(local);
    local += name;
    put32(central, kCentralHeaderSig);
    put16(central, 20);  // made by: 2.0, MS-DOS
    common(central);
    put16(central, 0);   // comment
    put16(central, 0);   // disk
    put16(central, 0);   // internal attributes
    put32(central, 0);   // external attributes
    put32(central, uint32_t(offset));
    central += name;
    emit(local);
    emit(body);
  }
  if (sorted.size() >= 0xffff || offset + central.size() >= k32Max)
    io::detail::fail(fn, out_stream->label(), "archives over 4 GiB or 65534 arrays are not supported");
  std::string end;
  put32(end, kEndSig);
  put16(end, 0);
  put16(end, 0);
  put16(end, uint16_t(sorted.size()));
  put16(end, uint16_t(sorted.size()));
  put32(end, uint32_t(central.size()));
  put32(end, uint32_t(offset));
  put16(end, 0);
  emit(central);
  emit(end);
}

void savez(std::string file, std::unordered_map<std::string, array> arrays) {
  if (!io::detail::ends_with(file, ".npz")) file += ".npz";
  savez(io::detail::open_writer(file, "savez"), std::move(arrays), false);
}

void savez_compressed(std::string file, std::unordered_map<std::string, array> arrays) {
  if (!io::detail::ends_with(file, ".npz")) file += ".npz";
  savez(io::detail::open_writer(file, "savez_compressed"), std::move(arrays), true);
}

std::unordered_map<std::string, array> load_npz(std::shared_ptr<io::Reader> in_stream, StreamOrDevice s) {
  detail::OpStream on_stream(s);
  if (!in_stream) throw std::invalid_argument("[load_npz] The reader is null.");
  io::detail::Cursor cur(*in_stream, "load_npz");
  std::unordered_map<std::string, array> out;
  for (const Member& m : read_central_directory(cur)) {
    std::string bytes = read_member(cur, m);
    std::string key = io::detail::ends_with(m.name, ".npy") ? m.name.substr(0, m.name.size() - 4) : m.name;
    if (out.count(key)) cur.fail("two members are named '" + m.name + "'");
    auto member = std::make_shared<io::MemoryReader>(std::move(bytes), in_stream->label() + ":" + m.name);
    out.emplace(key, load(member));
  }
  return out;
}

std::unordered_map<std::string, array> load_npz(const std::string& file, StreamOrDevice s) {
  return load_npz(io::detail::open_reader(file, "load_npz"), s);
}

}  // namespace kiln
