from tokenizers import Tokenizer

from trainer.vocab import CHARACTERS, Vocab


def test_round_trip_and_unseen_characters(tmp_path):
    vocab = Vocab.default()
    text = "def f(x):\n\treturn x  # ok\r\n"
    assert vocab.decode(vocab.encode(text)) == text
    ids = vocab.encode("a😀b")
    assert ids[1] == vocab.unk_id and vocab.decode(ids) == "ab"


def test_bulk_and_single_encoders_agree_with_the_tokenizer_library(tmp_path):
    vocab = Vocab.default()
    vocab.save(tmp_path / "tokenizer.json")
    library = Tokenizer.from_file(str(tmp_path / "tokenizer.json"))
    text = "x = 'é→中' \t\n  λ: None 😀"
    expected = library.encode(text, add_special_tokens=False).ids
    assert vocab.encode(text) == expected
    from trainer.match import codes_of

    assert vocab.encode_codes(codes_of(text)).tolist() == expected


def test_vocabulary_does_not_depend_on_a_corpus(tmp_path):
    vocab = Vocab.default()
    vocab.save(tmp_path / "tokenizer.json")
    again = Vocab.load(tmp_path / "tokenizer.json")
    assert again.size == vocab.size == len(set(CHARACTERS)) + 2
    assert [again.char(i) for i in range(again.size)] == [vocab.char(i) for i in range(vocab.size)]
