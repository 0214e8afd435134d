#pragma once
// A map that remembers the order in which its entries were last used, so
// that a cache can stay within a bound by dropping its least recently used
// entries. It does no locking (its owner does) and drops nothing on its
// own: trim() hands the dropped values back, so that the owner can destroy
// them after releasing its lock (a value's destructor may take locks of
// its own, or take time).
#include <cstddef>
#include <list>
#include <map>
#include <utility>
#include <vector>

namespace kiln::runtime {

template <class Key, class Value>
class LruCache {
 public:
  // The value of `key`, now the most recently used entry; null if absent.
  Value* find(const Key& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second);
    return &it->second->second;
  }

  // Adds (key, value) as the most recently used entry, or, if `key` is
  // present, returns its value and leaves it there (the first one stays:
  // callers that raced to make the same entry then share one).
  Value& insert(const Key& key, Value value) {
    if (Value* v = find(key)) return *v;
    order_.emplace_front(key, std::move(value));
    index_.emplace(key, order_.begin());
    return order_.front().second;
  }

  // Drops least recently used entries until at most `capacity` remain, and
  // returns their values.
  std::vector<Value> trim(size_t capacity) {
    std::vector<Value> dropped;
    while (order_.size() > capacity) {
      index_.erase(order_.back().first);
      dropped.push_back(std::move(order_.back().second));
      order_.pop_back();
    }
    return dropped;
  }

  size_t size() const { return order_.size(); }

 private:
  std::list<std::pair<Key, Value>> order_;  // most recently used first
  std::map<Key, typename std::list<std::pair<Key, Value>>::iterator> index_;
};

}  // namespace kiln::runtime
