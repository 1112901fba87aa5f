from mtfix.guards import is_repairable, protected_tokens, violations


def test_numbers_names_and_urls_are_protected():
    sentence = 'On Monday, Cavusoglu said 3 soldiers were hurt, see https://example.com/a.'
    assert set(protected_tokens(sentence)) == {"Monday", "Cavusoglu", "3", "https://example.com/a"}


def test_sentence_initial_capital_is_not_a_name():
    assert "The" not in protected_tokens("The talks failed.")
    assert "we" not in protected_tokens('"we are here," he said.')


def test_changing_a_number_or_name_is_refused():
    source = "Cavusoglu said 3 soldiers were injured near Idlib."
    assert violations(source, source.replace("3", "4"))
    assert violations(source, source.replace("Idlib", "Aleppo"))
    assert violations(source, source.replace(" near Idlib", ""))


def test_spelling_out_a_small_number_keeps_its_value():
    source = "Russian planes finished 4 moves."
    assert violations(source, "Russian planes carried out four strikes.") == []


def test_quotation_marks_and_length_drift_are_checked():
    source = '"We are working hard," he said.'
    assert violations(source, "We are working hard, he said.")
    assert violations(source, source + " and so on and so on and so on and so on and so on")
    assert violations(source, '"We work hard," he said.') == []


def test_markup_junk_and_foreign_text_are_not_repairable():
    assert not is_repairable("<p>The army <b>released</b> a statement.</p>")
    assert not is_repairable("\x00\x01\x02 binary \xff junk \ufffd")
    assert not is_repairable("Россия начала военную операцию в Сирии.")
    assert not is_repairable("Die Regierung hat am Donnerstag eine Erklärung abgegeben und die Lage ist ernst.")
    assert not is_repairable("12.5 13.7 14.2 15.0")
    assert is_repairable("Russia released a navy intervention in help of Assad.")


def test_invented_names_and_rewrites_are_refused():
    source = "-- indented line with two  spaces"
    assert violations(source, "Police the zone near Idlib.")
    assert violations("The minister said the talks had failed.", "Officials reported nothing new at all today.")


def test_restoring_a_lost_apostrophe_keeps_the_name():
    source = "He said Turkey\u00a0s defence ministry denied it."
    assert violations(source, "He said Turkey's defence ministry denied it.") == []
    assert violations(source, "He said Russia's defence ministry denied it.")
