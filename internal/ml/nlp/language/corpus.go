package language

// trainingText holds short, hand-written sentences per Latin-script
// language from which character-trigram profiles are built at start-up.
// They were written for this package (no external corpus) and are
// deliberately everyday, review- and support-ticket-like text.
var trainingText = map[string]string{
	"en": `The weather was lovely yesterday, so we walked along the river until sunset.
I ordered a new laptop last week and it still has not arrived.
Could you please tell me where the nearest train station is?
My sister works as a nurse in a small hospital outside the city.
This restaurant serves the best pizza I have ever eaten.
We should leave early tomorrow morning because the traffic is always heavy.
The children were playing in the garden while their parents cooked dinner.
Thank you for your quick reply, the problem has been solved.
He forgot his umbrella at the office and got completely wet on the way home.
The company announced that it would hire more engineers next year.
Our flight was delayed for three hours without any explanation.
She reads a book every evening before going to sleep.
The price of this phone is too high for what it offers.
I would like to change my password because I think someone used my account.
They have lived in the same house for almost twenty years.
Please send me the invoice and the tracking number as soon as possible.
The museum is closed on Mondays but open every other day of the week.
What time does the meeting start, and who will be there?
The battery lasts all day and the screen is bright and clear.
Everyone agreed that the new policy was fair and easy to understand.
It is raining again, which means we will probably stay inside and watch a movie.
The teacher explained the lesson slowly so that all students could follow.
After the update my computer became much slower than before.
We are looking forward to seeing you at the wedding in June.
There is something wrong with the washing machine, it makes a strange noise.
Although the hotel was old, the rooms were clean and the staff were friendly.
I can't find the charger that came with the headphones.
This is the third time I have contacted support about the same issue.`,

	"es": `El tiempo estaba precioso ayer, así que caminamos junto al río hasta la puesta del sol.
Pedí un ordenador nuevo la semana pasada y todavía no ha llegado.
¿Podría decirme dónde está la estación de tren más cercana?
Mi hermana trabaja como enfermera en un pequeño hospital fuera de la ciudad.
Este restaurante sirve la mejor pizza que he comido nunca.
Deberíamos salir temprano mañana porque el tráfico siempre es muy pesado.
Los niños jugaban en el jardín mientras sus padres preparaban la cena.
Gracias por su rápida respuesta, el problema ya está resuelto.
Se olvidó el paraguas en la oficina y llegó a casa completamente mojado.
La empresa anunció que contratará a más ingenieros el año que viene.
Nuestro vuelo se retrasó tres horas sin ninguna explicación.
Ella lee un libro todas las noches antes de dormir.
El precio de este teléfono es demasiado alto para lo que ofrece.
Quisiera cambiar mi contraseña porque creo que alguien usó mi cuenta.
Ellos han vivido en la misma casa durante casi veinte años.
Por favor, envíeme la factura y el número de seguimiento lo antes posible.
El museo está cerrado los lunes pero abre todos los demás días de la semana.
¿A qué hora empieza la reunión y quién va a estar allí?
La batería dura todo el día y la pantalla es brillante y nítida.
Todos estuvieron de acuerdo en que la nueva política era justa y fácil de entender.
Está lloviendo otra vez, así que probablemente nos quedaremos en casa viendo una película.
El profesor explicó la lección despacio para que todos los alumnos pudieran seguirla.
Después de la actualización mi ordenador se volvió mucho más lento que antes.
Tenemos muchas ganas de veros en la boda en junio.
Hay algo que no funciona en la lavadora, hace un ruido extraño.
Aunque el hotel era viejo, las habitaciones estaban limpias y el personal era amable.
No encuentro el cargador que venía con los auriculares.
Es la tercera vez que contacto con el servicio técnico por el mismo problema.`,

	"fr": `Il faisait très beau hier, alors nous avons marché le long de la rivière jusqu'au coucher du soleil.
J'ai commandé un nouvel ordinateur la semaine dernière et il n'est toujours pas arrivé.
Pourriez-vous me dire où se trouve la gare la plus proche ?
Ma sœur travaille comme infirmière dans un petit hôpital en dehors de la ville.
Ce restaurant sert la meilleure pizza que j'aie jamais mangée.
Nous devrions partir tôt demain matin parce que la circulation est toujours dense.
Les enfants jouaient dans le jardin pendant que leurs parents préparaient le dîner.
Merci pour votre réponse rapide, le problème est maintenant résolu.
Il a oublié son parapluie au bureau et il est rentré chez lui complètement trempé.
L'entreprise a annoncé qu'elle embaucherait davantage d'ingénieurs l'année prochaine.
Notre vol a été retardé de trois heures sans aucune explication.
Elle lit un livre chaque soir avant de s'endormir.
Le prix de ce téléphone est beaucoup trop élevé pour ce qu'il propose.
Je voudrais changer mon mot de passe car je pense que quelqu'un a utilisé mon compte.
Ils habitent dans la même maison depuis presque vingt ans.
Merci de m'envoyer la facture et le numéro de suivi dès que possible.
Le musée est fermé le lundi mais ouvert tous les autres jours de la semaine.
À quelle heure commence la réunion et qui sera présent ?
La batterie tient toute la journée et l'écran est lumineux et net.
Tout le monde était d'accord pour dire que la nouvelle règle était juste et facile à comprendre.
Il pleut encore, donc nous allons sûrement rester à la maison et regarder un film.
Le professeur a expliqué la leçon lentement pour que tous les élèves puissent suivre.
Après la mise à jour, mon ordinateur est devenu beaucoup plus lent qu'avant.
Nous avons hâte de vous voir au mariage au mois de juin.
Il y a quelque chose qui ne va pas avec la machine à laver, elle fait un bruit bizarre.
Bien que l'hôtel soit ancien, les chambres étaient propres et le personnel aimable.
Je ne trouve pas le chargeur qui était fourni avec le casque.
C'est la troisième fois que je contacte le service client pour le même problème.`,

	"de": `Das Wetter war gestern herrlich, deshalb sind wir bis zum Sonnenuntergang am Fluss entlang spaziert.
Ich habe letzte Woche einen neuen Laptop bestellt und er ist immer noch nicht angekommen.
Könnten Sie mir bitte sagen, wo der nächste Bahnhof ist?
Meine Schwester arbeitet als Krankenschwester in einem kleinen Krankenhaus außerhalb der Stadt.
Dieses Restaurant serviert die beste Pizza, die ich je gegessen habe.
Wir sollten morgen früh losfahren, weil der Verkehr immer sehr dicht ist.
Die Kinder spielten im Garten, während ihre Eltern das Abendessen kochten.
Vielen Dank für Ihre schnelle Antwort, das Problem ist jetzt gelöst.
Er hat seinen Regenschirm im Büro vergessen und ist auf dem Heimweg völlig nass geworden.
Die Firma hat angekündigt, dass sie im nächsten Jahr mehr Ingenieure einstellen wird.
Unser Flug hatte drei Stunden Verspätung ohne jede Erklärung.
Sie liest jeden Abend ein Buch, bevor sie schlafen geht.
Der Preis für dieses Handy ist viel zu hoch für das, was es bietet.
Ich möchte mein Passwort ändern, weil ich glaube, dass jemand mein Konto benutzt hat.
Sie wohnen seit fast zwanzig Jahren in demselben Haus.
Bitte schicken Sie mir die Rechnung und die Sendungsnummer so schnell wie möglich.
Das Museum ist montags geschlossen, aber an allen anderen Tagen der Woche geöffnet.
Um wie viel Uhr beginnt die Besprechung und wer wird dabei sein?
Der Akku hält den ganzen Tag und der Bildschirm ist hell und scharf.
Alle waren sich einig, dass die neue Regelung fair und leicht zu verstehen ist.
Es regnet schon wieder, also bleiben wir wahrscheinlich zu Hause und schauen einen Film.
Der Lehrer erklärte die Lektion langsam, damit alle Schüler folgen konnten.
Nach dem Update ist mein Computer viel langsamer geworden als vorher.
Wir freuen uns sehr darauf, euch im Juni auf der Hochzeit zu sehen.
Mit der Waschmaschine stimmt etwas nicht, sie macht ein seltsames Geräusch.
Obwohl das Hotel alt war, waren die Zimmer sauber und das Personal freundlich.
Ich kann das Ladegerät nicht finden, das bei den Kopfhörern dabei war.
Das ist schon das dritte Mal, dass ich mich wegen desselben Problems an den Kundendienst wende.`,

	"it": `Ieri il tempo era bellissimo, così abbiamo camminato lungo il fiume fino al tramonto.
Ho ordinato un nuovo computer la settimana scorsa e non è ancora arrivato.
Potrebbe dirmi dove si trova la stazione dei treni più vicina?
Mia sorella lavora come infermiera in un piccolo ospedale fuori città.
Questo ristorante serve la pizza più buona che abbia mai mangiato.
Dovremmo partire presto domani mattina perché il traffico è sempre molto intenso.
I bambini giocavano in giardino mentre i loro genitori preparavano la cena.
Grazie per la sua risposta veloce, il problema è stato risolto.
Ha dimenticato l'ombrello in ufficio ed è tornato a casa completamente bagnato.
L'azienda ha annunciato che assumerà altri ingegneri il prossimo anno.
Il nostro volo è stato ritardato di tre ore senza alcuna spiegazione.
Lei legge un libro ogni sera prima di andare a dormire.
Il prezzo di questo telefono è troppo alto per quello che offre.
Vorrei cambiare la mia password perché penso che qualcuno abbia usato il mio account.
Abitano nella stessa casa da quasi vent'anni.
Per favore, mi mandi la fattura e il numero di spedizione il prima possibile.
Il museo è chiuso il lunedì ma è aperto tutti gli altri giorni della settimana.
A che ora comincia la riunione e chi ci sarà?
La batteria dura tutto il giorno e lo schermo è luminoso e nitido.
Tutti erano d'accordo che la nuova regola fosse giusta e facile da capire.
Piove di nuovo, quindi probabilmente resteremo a casa a guardare un film.
L'insegnante ha spiegato la lezione lentamente affinché tutti gli studenti potessero seguire.
Dopo l'aggiornamento il mio computer è diventato molto più lento di prima.
Non vediamo l'ora di vedervi al matrimonio a giugno.
C'è qualcosa che non va con la lavatrice, fa uno strano rumore.
Anche se l'albergo era vecchio, le camere erano pulite e il personale gentile.
Non riesco a trovare il caricabatterie che era incluso con le cuffie.
È la terza volta che contatto l'assistenza per lo stesso problema.`,

	"pt": `O tempo estava lindo ontem, então caminhamos ao longo do rio até o pôr do sol.
Eu encomendei um computador novo na semana passada e ele ainda não chegou.
Você poderia me dizer onde fica a estação de trem mais próxima?
Minha irmã trabalha como enfermeira num pequeno hospital fora da cidade.
Este restaurante serve a melhor pizza que eu já comi.
Devíamos sair cedo amanhã de manhã porque o trânsito está sempre muito pesado.
As crianças brincavam no jardim enquanto os pais preparavam o jantar.
Obrigado pela sua resposta rápida, o problema já foi resolvido.
Ele esqueceu o guarda-chuva no escritório e chegou em casa completamente molhado.
A empresa anunciou que vai contratar mais engenheiros no próximo ano.
O nosso voo atrasou três horas sem nenhuma explicação.
Ela lê um livro todas as noites antes de dormir.
O preço deste telemóvel é alto demais para o que oferece.
Gostaria de mudar a minha senha porque acho que alguém usou a minha conta.
Eles moram na mesma casa há quase vinte anos.
Por favor, envie-me a fatura e o código de rastreamento o mais rápido possível.
O museu fecha às segundas-feiras, mas abre em todos os outros dias da semana.
A que horas começa a reunião e quem vai estar lá?
A bateria dura o dia inteiro e a tela é brilhante e nítida.
Todos concordaram que a nova regra era justa e fácil de entender.
Está chovendo outra vez, então provavelmente vamos ficar em casa vendo um filme.
O professor explicou a lição devagar para que todos os alunos pudessem acompanhar.
Depois da atualização o meu computador ficou muito mais lento do que antes.
Estamos ansiosos para ver vocês no casamento em junho.
Há alguma coisa errada com a máquina de lavar, ela faz um barulho estranho.
Embora o hotel fosse antigo, os quartos estavam limpos e os funcionários eram simpáticos.
Não consigo encontrar o carregador que veio com os fones de ouvido.
É a terceira vez que entro em contato com o suporte pelo mesmo problema.`,

	"nl": `Het weer was gisteren prachtig, dus we hebben langs de rivier gewandeld tot zonsondergang.
Ik heb vorige week een nieuwe laptop besteld en hij is nog steeds niet aangekomen.
Kunt u mij vertellen waar het dichtstbijzijnde treinstation is?
Mijn zus werkt als verpleegster in een klein ziekenhuis buiten de stad.
Dit restaurant serveert de lekkerste pizza die ik ooit gegeten heb.
We moeten morgen vroeg vertrekken omdat het verkeer altijd erg druk is.
De kinderen speelden in de tuin terwijl hun ouders het avondeten kookten.
Bedankt voor uw snelle antwoord, het probleem is opgelost.
Hij vergat zijn paraplu op kantoor en werd op weg naar huis helemaal nat.
Het bedrijf heeft aangekondigd dat het volgend jaar meer ingenieurs gaat aannemen.
Onze vlucht had drie uur vertraging zonder enige uitleg.
Zij leest elke avond een boek voordat ze gaat slapen.
De prijs van deze telefoon is veel te hoog voor wat hij biedt.
Ik wil mijn wachtwoord wijzigen omdat ik denk dat iemand mijn account heeft gebruikt.
Ze wonen al bijna twintig jaar in hetzelfde huis.
Stuur mij alstublieft zo snel mogelijk de factuur en het trackingnummer.
Het museum is op maandag gesloten, maar alle andere dagen van de week open.
Hoe laat begint de vergadering en wie zijn er allemaal bij?
De batterij gaat de hele dag mee en het scherm is helder en scherp.
Iedereen was het erover eens dat de nieuwe regel eerlijk en makkelijk te begrijpen was.
Het regent alweer, dus we blijven waarschijnlijk binnen en kijken een film.
De leraar legde de les langzaam uit zodat alle leerlingen het konden volgen.
Na de update is mijn computer veel trager geworden dan voorheen.
We kijken ernaar uit jullie in juni op de bruiloft te zien.
Er is iets mis met de wasmachine, hij maakt een vreemd geluid.
Hoewel het hotel oud was, waren de kamers schoon en het personeel vriendelijk.
Ik kan de oplader niet vinden die bij de koptelefoon zat.
Dit is de derde keer dat ik contact opneem met de klantenservice over hetzelfde probleem.`,

	"sv": `Vädret var underbart igår, så vi promenerade längs ån ända till solnedgången.
Jag beställde en ny dator förra veckan och den har fortfarande inte kommit.
Kan du säga mig var närmaste tågstation ligger?
Min syster arbetar som sjuksköterska på ett litet sjukhus utanför staden.
Den här restaurangen serverar den godaste pizza jag någonsin har ätit.
Vi borde åka tidigt i morgon bitti eftersom trafiken alltid är tät.
Barnen lekte i trädgården medan föräldrarna lagade middag.
Tack för ditt snabba svar, problemet är nu löst.
Han glömde sitt paraply på kontoret och blev helt blöt på vägen hem.
Företaget meddelade att det kommer att anställa fler ingenjörer nästa år.
Vårt flyg blev tre timmar försenat utan någon förklaring.
Hon läser en bok varje kväll innan hon somnar.
Priset på den här telefonen är alldeles för högt för vad den erbjuder.
Jag vill byta mitt lösenord eftersom jag tror att någon har använt mitt konto.
De har bott i samma hus i nästan tjugo år.
Skicka gärna fakturan och spårningsnumret så snart som möjligt.
Museet är stängt på måndagar men öppet alla andra dagar i veckan.
Vilken tid börjar mötet och vilka kommer att vara där?
Batteriet räcker hela dagen och skärmen är ljus och skarp.
Alla var överens om att den nya regeln var rättvis och lätt att förstå.
Det regnar igen, så vi stannar nog inne och tittar på en film.
Läraren förklarade lektionen långsamt så att alla elever kunde hänga med.
Efter uppdateringen blev min dator mycket långsammare än förut.
Vi ser fram emot att träffa er på bröllopet i juni.
Det är något fel på tvättmaskinen, den låter konstigt.
Även om hotellet var gammalt var rummen rena och personalen vänlig.
Jag hittar inte laddaren som följde med hörlurarna.
Det här är tredje gången jag kontaktar kundtjänst om samma problem.`,

	"pl": `Wczoraj była piękna pogoda, więc spacerowaliśmy wzdłuż rzeki aż do zachodu słońca.
W zeszłym tygodniu zamówiłem nowy laptop i wciąż nie dotarł.
Czy może mi pan powiedzieć, gdzie jest najbliższy dworzec kolejowy?
Moja siostra pracuje jako pielęgniarka w małym szpitalu poza miastem.
Ta restauracja podaje najlepszą pizzę, jaką kiedykolwiek jadłem.
Powinniśmy wyjechać jutro wcześnie rano, bo ruch jest zawsze bardzo duży.
Dzieci bawiły się w ogrodzie, a rodzice gotowali kolację.
Dziękuję za szybką odpowiedź, problem został już rozwiązany.
Zapomniał parasola w biurze i w drodze do domu całkiem przemókł.
Firma ogłosiła, że w przyszłym roku zatrudni więcej inżynierów.
Nasz lot był opóźniony o trzy godziny bez żadnego wyjaśnienia.
Ona czyta książkę każdego wieczoru przed snem.
Cena tego telefonu jest zdecydowanie za wysoka w stosunku do tego, co oferuje.
Chciałbym zmienić hasło, ponieważ myślę, że ktoś korzystał z mojego konta.
Mieszkają w tym samym domu od prawie dwudziestu lat.
Proszę przesłać mi fakturę i numer przesyłki jak najszybciej.
Muzeum jest zamknięte w poniedziałki, ale otwarte we wszystkie pozostałe dni tygodnia.
O której godzinie zaczyna się spotkanie i kto na nim będzie?
Bateria wystarcza na cały dzień, a ekran jest jasny i wyraźny.
Wszyscy zgodzili się, że nowe zasady są sprawiedliwe i łatwe do zrozumienia.
Znowu pada, więc pewnie zostaniemy w domu i obejrzymy film.
Nauczyciel wyjaśnił lekcję powoli, żeby wszyscy uczniowie mogli nadążyć.
Po aktualizacji mój komputer działa dużo wolniej niż wcześniej.
Nie możemy się doczekać, aż zobaczymy was na weselu w czerwcu.
Coś jest nie tak z pralką, wydaje dziwny dźwięk.
Chociaż hotel był stary, pokoje były czyste, a obsługa miła.
Nie mogę znaleźć ładowarki, która była dołączona do słuchawek.
To już trzeci raz, kiedy kontaktuję się z obsługą klienta w tej samej sprawie.`,

	"tr": `Dün hava çok güzeldi, bu yüzden gün batımına kadar nehir boyunca yürüdük.
Geçen hafta yeni bir dizüstü bilgisayar sipariş ettim ve hâlâ gelmedi.
En yakın tren istasyonunun nerede olduğunu söyleyebilir misiniz?
Kız kardeşim şehrin dışındaki küçük bir hastanede hemşire olarak çalışıyor.
Bu restoran şimdiye kadar yediğim en iyi pizzayı yapıyor.
Yarın sabah erken çıkmalıyız çünkü trafik her zaman çok yoğun oluyor.
Çocuklar bahçede oynarken ebeveynleri akşam yemeğini hazırlıyordu.
Hızlı cevabınız için teşekkür ederim, sorun artık çözüldü.
Şemsiyesini ofiste unuttu ve eve dönerken sırılsıklam oldu.
Şirket gelecek yıl daha fazla mühendis işe alacağını duyurdu.
Uçuşumuz hiçbir açıklama yapılmadan üç saat ertelendi.
Her akşam uyumadan önce bir kitap okuyor.
Bu telefonun fiyatı sunduklarına göre fazla yüksek.
Şifremi değiştirmek istiyorum çünkü birinin hesabımı kullandığını düşünüyorum.
Neredeyse yirmi yıldır aynı evde yaşıyorlar.
Lütfen faturayı ve kargo takip numarasını en kısa sürede bana gönderin.
Müze pazartesi günleri kapalı, ama haftanın diğer bütün günleri açık.
Toplantı saat kaçta başlıyor ve kimler orada olacak?
Batarya bütün gün dayanıyor ve ekran parlak ve net.
Herkes yeni kuralın adil ve anlaşılması kolay olduğu konusunda hemfikirdi.
Yine yağmur yağıyor, o yüzden muhtemelen evde kalıp film izleyeceğiz.
Öğretmen dersi yavaş yavaş anlattı, böylece bütün öğrenciler takip edebildi.
Güncellemeden sonra bilgisayarım eskisinden çok daha yavaş çalışıyor.
Haziranda düğünde sizi görmeyi dört gözle bekliyoruz.
Çamaşır makinesinde bir sorun var, garip bir ses çıkarıyor.
Otel eski olmasına rağmen odalar temizdi ve personel güler yüzlüydü.
Kulaklıkla birlikte gelen şarj aletini bulamıyorum.
Aynı sorun için müşteri hizmetleriyle üçüncü kez iletişime geçiyorum.`,
}

// stopwords are the most frequent function words per language; a word
// found here adds a bonus to that language's score.
var stopwords = map[string]string{
	"en": "the of and to a in is it you that he was for on are with as i his they be at one have this from or had by not but what some we can out other were all there when up use your how said an each she which do their if will way about many then them would like so these her see him has more could go come did my no most who over know than call first down day been now find any new work part take get made after back only our little very just where much before too also around well here why again off went old still must should few those while might under us",
	"es": "de la que el en y a los se del las un por con no una su para es al lo como más pero sus le ya o este sí porque esta entre cuando muy sin sobre también me hasta hay donde quien desde todo nos durante todos uno les ni contra otros ese eso ante ellos e esto mí antes algunos qué unos yo otro otras otra él tanto esa estos mucho quienes nada muchos cual poco ella estar estas algunas algo nosotros mi mis tú te ti tu tus ellas nosotras vosotros os mío mía suyo está estoy estamos están fue era son tiene tengo hace gracias bien",
	"fr": "de la le et les des en un une du est que pour qui dans a pas au par sur se ne ce il elle je nous vous ils elles plus son sa ses leur mais ou avec tout comme on y été être avoir fait très aux cette ces mon ma mes ton votre nos lui même bien où sans encore aussi peu quand après avant chez donc car alors déjà toujours c'est j'ai n'est qu'il d'un d'une l'on",
	"de": "der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als auch es an werden aus er hat dass sie nach wird bei einer um am sind noch wie einem über einen so zum war haben nur oder aber vor zur bis mehr durch man sein wurde sei ich du wir ihr mein dein unser kein keine sehr schon immer hier dort jetzt heute wenn weil dann doch ja nein bitte danke",
	"it": "di e il la che in a per un è non una con del della le si da i al lo come ma più anche sono gli questo alla ha nel delle ci o se suo sua mi ti ne quando molto tutti tutto dei degli nella sul stato essere ho hai abbiamo perché questa quello cosa ancora dove chi io tu noi voi loro mio tuo già sempre poi grazie",
	"pt": "de a o que e do da em um para é com não uma os no se na por mais as dos como mas foi ao ele das tem à seu sua ou ser quando muito há nos já está eu também só pelo pela até isso ela entre era depois sem mesmo aos ter seus quem nas me esse eles estão você tinha foram essa num nem suas meu às minha têm numa pelos elas havia seja qual será nós tenho lhe deles essas esses pelas este fosse dele tu te vocês vos lhes meus minhas obrigado obrigada não então",
	"nl": "de en van het een in is dat op te zijn met voor niet die aan er ook als bij door maar om dan was ze zo hij nog wel naar kan uit of tot al wat mijn ik je we u haar hun ons onze zich heeft hebben worden wordt werd geen meer veel nu hier daar omdat toen heel alle iets niets altijd bedankt alstublieft",
	"sv": "och i att det som en på är av för med till den har de inte om ett han men var jag sig från vi så kan man när år säga hon under också efter eller nu sin där vid mot ska skulle kommer ut får finns vara hade alla andra mycket än här då sedan över bara in blev mitt min mina ditt din dina vår våra tack hej",
	"pl": "i w nie na się z do że to jest o jak co ale po tak za od jego już tylko mnie czy go być ja ty on ona my wy oni był była było są jestem jesteś jej ich nam mi ci też bardzo przez dla tego tej tym który która które jeszcze może kiedy gdzie więc bo aby żeby teraz tu tam dziękuję proszę",
	"tr": "ve bir bu da de için ile çok ne daha gibi ama o en var mı mi ben sen biz siz onlar olarak olan kadar sonra her şey değil yok ki şu çünkü ya hem nasıl neden nerede zaman bana sana ona bize artık hâlâ hiç teşekkür lütfen evet hayır",
}
