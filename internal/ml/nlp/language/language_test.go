package language

import (
	"testing"
)

// Test sentences written for the tests; none appears in corpus.go.
var testSentences = map[string][]string{
	"en": {
		"My neighbour bought a red bicycle for his daughter's birthday.",
		"The customer asked for a refund because the shoes were too small.",
		"We spent the whole weekend painting the kitchen walls.",
		"Is there a pharmacy open late somewhere near the hotel?",
		"The new software update fixed most of the bugs we reported.",
	},
	"es": {
		"Mi vecino compró una bicicleta roja para el cumpleaños de su hija.",
		"El cliente pidió un reembolso porque los zapatos eran demasiado pequeños.",
		"Pasamos todo el fin de semana pintando las paredes de la cocina.",
		"¿Hay alguna farmacia abierta hasta tarde cerca del hotel?",
		"La nueva actualización corrigió casi todos los errores que encontramos.",
	},
	"fr": {
		"Mon voisin a acheté un vélo rouge pour l'anniversaire de sa fille.",
		"Le client a demandé un remboursement parce que les chaussures étaient trop petites.",
		"Nous avons passé tout le week-end à peindre les murs de la cuisine.",
		"Est-ce qu'il y a une pharmacie ouverte tard près de l'hôtel ?",
		"La nouvelle version du logiciel a corrigé la plupart des erreurs signalées.",
	},
	"de": {
		"Mein Nachbar hat seiner Tochter zum Geburtstag ein rotes Fahrrad gekauft.",
		"Der Kunde wollte sein Geld zurück, weil die Schuhe zu klein waren.",
		"Wir haben das ganze Wochenende die Küchenwände gestrichen.",
		"Gibt es in der Nähe des Hotels eine Apotheke, die lange geöffnet hat?",
		"Das neue Software-Update hat die meisten gemeldeten Fehler behoben.",
	},
	"it": {
		"Il mio vicino ha comprato una bicicletta rossa per il compleanno di sua figlia.",
		"Il cliente ha chiesto un rimborso perché le scarpe erano troppo piccole.",
		"Abbiamo passato tutto il fine settimana a dipingere le pareti della cucina.",
		"C'è una farmacia aperta fino a tardi vicino all'albergo?",
		"Il nuovo aggiornamento del programma ha corretto quasi tutti gli errori segnalati.",
	},
	"pt": {
		"O meu vizinho comprou uma bicicleta vermelha para o aniversário da filha.",
		"O cliente pediu o reembolso porque os sapatos eram pequenos demais.",
		"Passamos o fim de semana inteiro pintando as paredes da cozinha.",
		"Existe alguma farmácia aberta até tarde perto do hotel?",
		"A nova atualização do aplicativo corrigiu quase todos os erros que encontramos.",
	},
	"nl": {
		"Mijn buurman heeft een rode fiets gekocht voor de verjaardag van zijn dochter.",
		"De klant wilde zijn geld terug omdat de schoenen te klein waren.",
		"We hebben het hele weekend de muren van de keuken geverfd.",
		"Is er een apotheek in de buurt van het hotel die laat open is?",
		"De nieuwe update van de software heeft de meeste fouten verholpen.",
	},
	"sv": {
		"Min granne köpte en röd cykel till sin dotters födelsedag.",
		"Kunden ville ha pengarna tillbaka eftersom skorna var för små.",
		"Vi tillbringade hela helgen med att måla väggarna i köket.",
		"Finns det något apotek som har öppet sent nära hotellet?",
		"Den nya uppdateringen av programmet rättade de flesta felen vi rapporterade.",
	},
	"pl": {
		"Mój sąsiad kupił czerwony rower na urodziny swojej córki.",
		"Klient poprosił o zwrot pieniędzy, bo buty były za małe.",
		"Spędziliśmy cały weekend na malowaniu ścian w kuchni.",
		"Czy w pobliżu hotelu jest apteka otwarta do późna?",
		"Nowa aktualizacja programu naprawiła większość zgłoszonych błędów.",
	},
	"tr": {
		"Komşum kızının doğum günü için kırmızı bir bisiklet aldı.",
		"Müşteri ayakkabılar çok küçük olduğu için parasını geri istedi.",
		"Bütün hafta sonunu mutfağın duvarlarını boyayarak geçirdik.",
		"Otelin yakınında geç saate kadar açık olan bir eczane var mı?",
		"Programın yeni güncellemesi bildirdiğimiz hataların çoğunu düzeltti.",
	},
	"ru": {
		"Мой сосед купил красный велосипед на день рождения дочери.",
		"Клиент попросил вернуть деньги, потому что обувь оказалась мала.",
		"Мы провели все выходные, покрасив стены на кухне.",
		"Есть ли рядом с гостиницей аптека, которая работает допоздна?",
		"Новое обновление программы исправило большинство ошибок.",
	},
	"ar": {
		"اشترى جاري دراجة حمراء لعيد ميلاد ابنته.",
		"طلب العميل استرداد المال لأن الحذاء كان صغيرا جدا.",
		"قضينا عطلة نهاية الأسبوع كلها في طلاء جدران المطبخ.",
		"هل توجد صيدلية مفتوحة حتى وقت متأخر بالقرب من الفندق؟",
		"أصلح التحديث الجديد معظم الأخطاء التي أبلغنا عنها.",
	},
	"hi": {
		"मेरे पड़ोसी ने अपनी बेटी के जन्मदिन के लिए लाल साइकिल खरीदी।",
		"ग्राहक ने पैसे वापस मांगे क्योंकि जूते बहुत छोटे थे।",
		"हमने पूरा सप्ताहांत रसोई की दीवारें रंगने में बिताया।",
		"क्या होटल के पास कोई दवा की दुकान देर तक खुली रहती है?",
		"नए अपडेट ने ज़्यादातर गलतियाँ ठीक कर दीं।",
	},
	"ja": {
		"隣の人が娘の誕生日に赤い自転車を買いました。",
		"靴が小さすぎたので、お客様は返金を求めました。",
		"週末はずっと台所の壁を塗っていました。",
		"ホテルの近くに遅くまで開いている薬局はありますか？",
		"新しいアップデートでほとんどのバグが直りました。",
	},
	"ko": {
		"이웃이 딸의 생일 선물로 빨간 자전거를 샀어요.",
		"신발이 너무 작아서 고객이 환불을 요청했습니다.",
		"우리는 주말 내내 부엌 벽을 칠했어요.",
		"호텔 근처에 늦게까지 여는 약국이 있나요?",
		"새 업데이트로 대부분의 버그가 고쳐졌습니다.",
	},
	"zh": {
		"我的邻居给女儿买了一辆红色的自行车作为生日礼物。",
		"因为鞋子太小了，顾客要求退款。",
		"我们整个周末都在粉刷厨房的墙壁。",
		"酒店附近有没有开到很晚的药店？",
		"新的更新修复了我们报告的大部分问题。",
	},
}

func TestDetectSentences(t *testing.T) {
	for want, sents := range testSentences {
		for _, s := range sents {
			got := Detect(s)
			if len(got) == 0 || got[0].LanguageCode != want {
				t.Errorf("%s: Detect(%q) = %+v", want, s, got)
				continue
			}
			if got[0].Score < 0.5 {
				t.Errorf("%s: low score for %q: %+v", want, s, got)
			}
			sum := 0.0
			for _, l := range got {
				if l.Score < 0 || l.Score > 1 {
					t.Errorf("score out of range: %+v", got)
				}
				sum += l.Score
			}
			if sum > 1.0001 {
				t.Errorf("scores sum to %v: %+v", sum, got)
			}
		}
	}
}

func TestShortAndMixed(t *testing.T) {
	for _, s := range []string{"ok", "Hola", "a", "xyz"} {
		got := Detect(s)
		if len(got) == 0 || got[0].Score > 0.5 {
			t.Errorf("short text %q should get a low score: %+v", s, got)
		}
	}
	mixed := Detect("The meeting is tomorrow. La reunión es mañana por la tarde.")
	if len(mixed) < 2 || mixed[0].Score > 0.9 {
		t.Errorf("mixed text should split scores: %+v", mixed)
	}
	ja := Detect("東京は日本の首都です")
	if ja[0].LanguageCode != "ja" {
		t.Errorf("kana+kanji should be ja: %+v", ja)
	}
	tw := Detect("我們這個週末要去臺灣買東西")
	if tw[0].LanguageCode != "zh-TW" {
		t.Errorf("traditional Chinese: %+v", tw)
	}
	if uk := Detect("Привіт, як справи? Я їду додому."); uk[0].LanguageCode != "uk" {
		t.Errorf("Ukrainian: %+v", uk)
	}
	if got := Detect("12345 !!! ..."); got == nil || len(got) != 0 {
		t.Errorf("no letters should give empty list: %+v", got)
	}
	if got := Detect(""); got == nil || len(got) != 0 {
		t.Errorf("empty: %+v", got)
	}
}

func FuzzDetect(f *testing.F) {
	f.Add("The meeting is tomorrow.")
	f.Add("東京 \xff Привіт")
	f.Fuzz(func(t *testing.T, s string) {
		sum := 0.0
		for _, l := range Detect(s) {
			if l.Score < 0 || l.Score > 1 || l.LanguageCode == "" {
				t.Fatalf("bad %+v", l)
			}
			sum += l.Score
		}
		if sum > 1.0001 {
			t.Fatalf("sum %v", sum)
		}
	})
}

func BenchmarkDetect(b *testing.B) {
	text := "The delivery was late again and the box was damaged, but customer support answered quickly and sent a replacement. I would still recommend this shop."
	Detect(text)
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Detect(text)
	}
}
